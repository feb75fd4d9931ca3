/* libFuzzer target: pipeline files (YAML, ${VAR} substitution, structure
 * checks, --set overrides).  Stages are not loaded. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int once;
    if (!once++) {
        setenv("TJ_FUZZ_VAR", "value", 1);
        tj__log_level = -1;
    }
    tj_pipeline *p = NULL;
    tj_err err;
    char arg[] = "fetch.paths=[a, b]";
    tj_override ov;
    tj__override_parse(arg, &ov);
    if (tj__pipeline_parse((const char *)data, size, "fuzz.yaml", &ov, 1, false, &p, &err) == 0)
        tj__pipeline_free(p);
    return 0;
}
