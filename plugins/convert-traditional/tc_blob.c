/*
 * tc_blob.c - embeds the compiled dictionaries (tc_format.h) in the stage.
 *
 * The blob is generated at build time under $(BUILD)/convert-traditional/
 * (see plugin.mk) and pulled into .rodata with the assembler's `.incbin`,
 * so it travels inside the .so: `make install` copies one file, and loading
 * the data is the dynamic loader's mmap (pages are read when first touched).
 * TC_BLOB_PATH is the blob's absolute path as a C string literal, set by
 * plugin.mk.
 */
#ifndef TC_BLOB_PATH
#error "TC_BLOB_PATH must name the generated blob (see plugin.mk)"
#endif

__asm__(".section .rodata.tc_blob,\"a\",@progbits\n"
        ".balign 64\n"
        ".globl tc__blob_start\n"
        ".hidden tc__blob_start\n"
        "tc__blob_start:\n"
        ".incbin \"" TC_BLOB_PATH "\"\n"
        ".globl tc__blob_end\n"
        ".hidden tc__blob_end\n"
        "tc__blob_end:\n"
        ".previous\n");
