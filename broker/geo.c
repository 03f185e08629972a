/*
 * geo — haversine distance and the fiber-path RTT estimate. Pure.
 */
#include "geo.h"

#include <math.h>

#define EARTH_RADIUS_KM 6371.0
#define FIBER_KM_PER_MS 200.0 /* light in glass, about 2/3 of c */
#define PATH_STRETCH 2.0      /* real routes are longer than the great circle */
#define EQUIPMENT_MS 2.0

double geo_distance_km(double lat1, double lon1, double lat2, double lon2)
{
    const double rad = M_PI / 180.0;
    double dlat = (lat2 - lat1) * rad, dlon = (lon2 - lon1) * rad;
    double a = sin(dlat / 2) * sin(dlat / 2) +
               cos(lat1 * rad) * cos(lat2 * rad) * sin(dlon / 2) * sin(dlon / 2);
    if (a > 1)
        a = 1;
    return 2 * EARTH_RADIUS_KM * asin(sqrt(a));
}

double geo_estimate_rtt_ms(double lat1, double lon1, double lat2, double lon2)
{
    double d = geo_distance_km(lat1, lon1, lat2, lon2);
    return EQUIPMENT_MS + 2.0 * PATH_STRETCH * d / FIBER_KM_PER_MS;
}
