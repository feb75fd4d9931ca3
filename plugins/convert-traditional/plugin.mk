# convert-traditional: the dictionaries are compiled at build time.
#
#   /usr/share/opencc/X.ocd2 --opencc_dict--> $(BUILD)/convert-traditional/dict/X.txt
#   /usr/share/opencc/*.json + dict/*.txt --tcgen--> $(BUILD)/convert-traditional/tc_data.bin
#   tc_blob.c embeds tc_data.bin with .incbin (TC_BLOB_PATH), so the .so
#   carries its data and `make install` needs nothing else.
#
# OPENCC_DATA overrides where the OpenCC configs and dictionaries are read.
OPENCC_DATA ?= /usr/share/opencc
convert-traditional_GEN  := $(BUILD)/convert-traditional
convert-traditional_BLOB := $(convert-traditional_GEN)/tc_data.bin

convert-traditional_CFLAGS := -DTC_BLOB_PATH='"$(abspath $(convert-traditional_BLOB))"'
convert-traditional_DEPS   := $(convert-traditional_BLOB) \
                              plugins/convert-traditional/tc_format.h \
                              plugins/convert-traditional/tc_engine.h
convert-traditional_LIBS   :=

# The generator is a build tool: plain flags, no sanitizers.
$(convert-traditional_GEN)/tcgen: plugins/convert-traditional/gen/tcgen.c \
                                  plugins/convert-traditional/tc_format.h
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -o $@ $< \
	    $(shell pkg-config --cflags --libs libcjson 2>/dev/null || echo -lcjson)

$(convert-traditional_GEN)/dict.stamp: $(wildcard $(OPENCC_DATA)/*.ocd2)
	@mkdir -p $(convert-traditional_GEN)/dict
	@for f in $(OPENCC_DATA)/*.ocd2; do \
	    opencc_dict -i "$$f" -o "$(convert-traditional_GEN)/dict/$$(basename "$$f" .ocd2).txt" \
	        -f ocd2 -t text || exit 1; \
	done
	@touch $@

$(convert-traditional_BLOB): $(convert-traditional_GEN)/tcgen \
                             $(convert-traditional_GEN)/dict.stamp \
                             $(wildcard $(OPENCC_DATA)/*.json)
	$(convert-traditional_GEN)/tcgen $(OPENCC_DATA) $(convert-traditional_GEN)/dict $@.tmp
	@mv $@.tmp $@

# bench/convert.sh: the engine alone, without the host.
$(convert-traditional_GEN)/tcbench: plugins/convert-traditional/bench/tcbench.c \
        $(BUILD)/plugins/convert-traditional/tc_engine.o \
        $(BUILD)/plugins/convert-traditional/tc_blob.o
	$(CC) $(CFLAGS_ALL) -Iplugins/convert-traditional -o $@ $^ $(LDFLAGS_ALL)
