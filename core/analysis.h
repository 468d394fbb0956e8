/* Glue between the state and core/correlate inside the server: when series,
 * deploys or alerts change, find spikes and rank suspects, and journal
 * spike.detected / suspect.ranked only when the result changed. */
#ifndef WARROOM_ANALYSIS_H
#define WARROOM_ANALYSIS_H

struct server;

/* Called by the server after a deploy.seen, alert.* event or a series update
 * (at most once per loop pass). */
void analysis_on_change(struct server *srv);

#endif
