/*
 * demo — `brokerd --demo`: registers the demo centers of schema/demo.json
 * (modelled on centers in public reports) through the same handlers the API
 * uses, and keeps their native feeds fresh with capacity that drifts a little
 * every minute, so a new user sees routing work at once.
 */
#ifndef SUANWANG_DEMO_H
#define SUANWANG_DEMO_H

struct api;
struct ev_loop;
struct demo;

/* Loads the demo (centers that exist are left alone) and starts the drift timer. */
int demo_start(struct api *api, struct ev_loop *loop, struct demo **ret);
void demo_free(struct demo *d);

#endif
