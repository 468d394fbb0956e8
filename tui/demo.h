#ifndef WARROOM_TUI_DEMO_H
#define WARROOM_TUI_DEMO_H
/* `warroom demo`: starts a private demo server and attaches the console. */
int demo_main(int argc, char **argv);
#endif
