/*
 * model — the broker's vocabulary: precisions, reject reasons, center states,
 * latency sources and routing weights, each an enum with a name table. Pure:
 * no I/O. Every other module speaks these types.
 */
#ifndef SUANWANG_MODEL_H
#define SUANWANG_MODEL_H

#include <stdbool.h>

enum precision {
    PREC_FP64,
    PREC_FP32,
    PREC_TF32,
    PREC_BF16,
    PREC_FP16,
    PREC_FP8,
    PREC_INT8,
    PREC_COUNT
};

/* Hard filters in the order they run; the first that fails is the reason. */
enum reject {
    REJECT_NONE,
    REJECT_CENTER_INACTIVE,
    REJECT_STALE_FEED,
    REJECT_REGION_EXCLUDED,
    REJECT_LABEL_MISMATCH,
    REJECT_NOT_DOMESTIC,
    REJECT_PRECISION_UNSUPPORTED,
    REJECT_MEMORY_TOO_SMALL,
    REJECT_LATENCY_EXCEEDS,
    REJECT_INSUFFICIENT_CAPACITY,
    REJECT_PRICE_EXCEEDS,
    REJECT_COUNT
};

enum center_status { CENTER_ACTIVE, CENTER_DRAINING, CENTER_DISABLED, CENTER_STATUS_COUNT };

enum rtt_source { RTT_MEASURED, RTT_CONFIGURED, RTT_ESTIMATED, RTT_SOURCE_COUNT };

enum role { ROLE_ADMIN, ROLE_OPERATOR, ROLE_TENANT, ROLE_COUNT };

struct weights {
    double cost;
    double latency;
    double balance;
};

extern const struct weights weights_default;

const char *precision_name(enum precision p);
const char *reject_name(enum reject r);
const char *center_status_name(enum center_status s);
const char *rtt_source_name(enum rtt_source s);
const char *role_name(enum role r);

/* Parsers: exact lower-case names. Return 0 and set *ret, or -EINVAL. */
int precision_parse(const char *s, enum precision *ret);
int center_status_parse(const char *s, enum center_status *ret);
int rtt_source_parse(const char *s, enum rtt_source *ret);
int role_parse(const char *s, enum role *ret);

/* True when weights are finite, each >= 0 and not all 0. */
bool weights_valid(const struct weights *w);

#endif
