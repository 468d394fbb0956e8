/* `warroom join [USER@]HOST[:PORT]`: attaches to a session on another
 * machine over SSH (libssh2, through backends/ssh.h) without an ssh command:
 * runs `warroom attach` there in a PTY of this terminal's size and relays
 * the terminal raw until it ends. */
#ifndef WARROOM_JOIN_H
#define WARROOM_JOIN_H

/* argv[0] is "join". Returns the remote command's exit status, 1 when the
 * connection fails or is refused, 2 on a usage error. */
int join_main(int argc, char **argv);

#endif
