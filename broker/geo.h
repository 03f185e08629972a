/*
 * geo — distances between regions and the round-trip estimate used where no
 * latency is configured or measured. Pure.
 */
#ifndef SUANWANG_GEO_H
#define SUANWANG_GEO_H

/* Round-trip time assumed inside one region (the national 1 ms city-network target). */
#define GEO_SAME_REGION_RTT_MS 1.0

/* The estimate, stated once so that decisions can quote it. */
#define GEO_RTT_FORMULA                                                                            \
    "rtt_ms = 2 + 2 * 2.0 * d_km / 200 (great-circle km, fiber 200 km/ms, path stretch 2.0, 2 ms " \
    "equipment)"

/* Great-circle distance in km (haversine, mean Earth radius 6371 km). */
double geo_distance_km(double lat1, double lon1, double lat2, double lon2);

/* Estimated RTT in ms between two points, per GEO_RTT_FORMULA. */
double geo_estimate_rtt_ms(double lat1, double lon1, double lat2, double lon2);

#endif
