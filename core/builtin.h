/* builtin.h - stages compiled into the host (see builtin.c). */
#ifndef TJ_BUILTIN_H
#define TJ_BUILTIN_H
#include "core.h"
extern const tj_stage_desc tj__stdin_stage;
extern const tj_stage_desc tj__stdout_stage;
#endif
