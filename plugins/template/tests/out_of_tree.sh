#!/usr/bin/env bash
# docs/writing-stages.md, executed: install taojin to a prefix, build the
# template out of tree with one cc command via pkg-config, run it.
source "$TJ_TOP/tests/lib.sh"
PREFIX="$TMP/prefix"
make -s -C "$TJ_TOP" install BUILD="$(basename "$TJ_BUILD")" PREFIX="$PREFIX" \
    $( [ -n "${TJ_SANITIZED:-}" ] && echo SAN=1 ) >"$TMP/install.log" 2>&1
assert_eq 0 $? "make install PREFIX=... succeeds"
[ -x "$PREFIX/bin/taojin" ] && ok "binary installed" || not_ok "binary installed"
[ -f "$PREFIX/include/taojin/stage.h" ] && ok "header installed" || not_ok "header installed"
export PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig"
assert_eq "-I$PREFIX/include" "$(pkg-config --cflags taojin | xargs)" "pkg-config finds taojin.pc"

mkdir -p "$TMP/mystage"
cp "$TJ_TOP/plugins/template/template.c" "$TMP/mystage/"
sed -i 's/"template"/"mylen"/' "$TMP/mystage/template.c"
SANF=""; [ -n "${TJ_SANITIZED:-}" ] && SANF="-fsanitize=address,undefined"
(cd "$TMP/mystage" && cc -shared -fPIC -O2 $SANF $(pkg-config --cflags taojin) -o mylen.so template.c)
assert_eq 0 $? "one cc command builds the stage out of tree"

# the installed stages must include the ones the pipeline needs
ls "$PREFIX/lib/taojin/plugins/" > "$TMP/installed"
assert_contains "$(cat "$TMP/installed")" "template.so" "stages installed to PREFIX/lib/taojin/plugins"

out=$("$PREFIX/bin/taojin" exec "$TMP/mystage/mylen.so" into=n --jsonl <<<'{"body":"中文"}' 2>&1)
assert_eq '{"body":"中文","n":6}' "$out" "the out-of-tree stage runs under the installed taojin"
out=$(TAOJIN_PLUGIN_PATH="$TMP/mystage" "$PREFIX/bin/taojin" stages mylen 2>&1)
assert_contains "$out" "into               string    length" "taojin stages shows its option table"
finish
