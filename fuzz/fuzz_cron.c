/* libFuzzer target: schedule expressions and next-time search. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cron.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char expr[200];
    if (size >= sizeof expr)
        size = sizeof expr - 1;
    memcpy(expr, data, size);
    expr[size] = 0;
    tj_cron c;
    tj_err err;
    const char *tz = size && (data[0] & 1) ? "America/New_York" : "UTC";
    if (tj__cron_parse(expr, tz, &c, &err) == 0) {
        time_t t = 1735689600; /* 2025-01-01 */
        for (int i = 0; i < 3 && t >= 0; i++) {
            time_t n = tj__cron_next(&c, t);
            if (n >= 0 && n <= t)
                __builtin_trap(); /* must move forward */
            t = n;
        }
    }
    return 0;
}
