/*
 * data.c - data files compiled into the stage.
 *
 * The organisation dictionary and the script character table are embedded
 * with the assembler's .incbin, so the installed .so needs no data path.
 * Paths are relative to the top of the source tree, where make and
 * fuzz/run.sh run the compiler; plugin.mk lists the files as prerequisites
 * so an edit rebuilds this object.
 */
#include "ext.h"

#define EXT_INCBIN(sym, file)                                                  \
    __asm__(".section .rodata\n"                                               \
            ".balign 16\n"                                                     \
            ".type " #sym ", @object\n" #sym ":\n"                             \
            ".incbin \"" file "\"\n"                                           \
            ".byte 0\n"                                                        \
            ".type " #sym "_end, @object\n" #sym "_end:\n"                     \
            ".previous\n");                                                    \
    extern const char sym[] __attribute__((visibility("hidden")));             \
    extern const char sym##_end[] __attribute__((visibility("hidden")))

EXT_INCBIN(ext_orgs_tsv, "plugins/extract/data/organizations.tsv");
EXT_INCBIN(ext_script_txt, "plugins/extract/data/script_chars.txt");

const char *ext_builtin_orgs(size_t *len)
{
    *len = (size_t)(ext_orgs_tsv_end - ext_orgs_tsv) - 1;
    return ext_orgs_tsv;
}

const char *ext_script_table(size_t *len)
{
    *len = (size_t)(ext_script_txt_end - ext_script_txt) - 1;
    return ext_script_txt;
}
