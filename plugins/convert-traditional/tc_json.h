/*
 * tc_json.h - conversion of the string values inside JSON text.
 */
#ifndef TC_JSON_H
#define TC_JSON_H

#include <stddef.h>

#include "tc_engine.h"

/* Appends to out a copy of the JSON text json[0..len) in which every string
 * that is a value (not an object key) went through tc_convert with cv.
 * Strings that do not change, keys, numbers and whitespace are copied byte
 * for byte; a changed string is written with minimal escaping (", \ and
 * control characters).  A string whose escapes hold a lone surrogate is
 * kept as it was.  out->changes and out->invalid count as in tc_convert.
 * Returns 0, TJ_EPARSE when a string or escape is malformed (out then holds
 * a partial copy; the caller keeps the original), or TJ_ENOMEM. */
int tc_json_convert(tc_conv *cv, const char *json, size_t len, tc_out *out);

#endif /* TC_JSON_H */
