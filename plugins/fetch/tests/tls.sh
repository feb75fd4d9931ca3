#!/usr/bin/env bash
# HTTPS: certificates are verified unless `insecure: true`, which warns.
# The fixture server speaks TLS with a self-signed certificate made here.
source "$TJ_TOP/tests/lib.sh"
source "$TJ_TOP/tests/httpd/httpd.sh"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
    -keyout "$TMP/key.pem" -out "$TMP/cert.pem" 2>/dev/null
assert_eq 0 "$?" "self-signed certificate made"
httpd_start --tls-cert "$TMP/cert.pem" --tls-key "$TMP/key.pem" \
    || { not_ok "TLS fixture server starts"; finish; }

pipeline() { # INSECURE
    cat > "$TMP/tls.yaml" <<YAML
name: tls
dead_letter: $TMP/failed.jsonl
stages:
  - use: fetch
    on_error: dead_letter
    with: {urls: ["$HTTPD/utf8.html"], insecure: $1, retries: 0}
  - use: export
    with: {format: jsonl, path: "-", exclude: [body]}
YAML
}
pipeline false
run_tj run "$TMP/tls.yaml" --no-progress
assert_eq 3 "$rc" "self-signed certificate: the record fails (exit 3)"
assert_contains "$(cat "$TMP/failed.jsonl")" "\"error\":\"GET $HTTPD/utf8.html: SSL certificate problem" \
    "the failure names the URL and the certificate problem"
assert_not_contains "$out" '"status":200' "nothing fetched without verification"

rm -f "$TMP/failed.jsonl"
pipeline true
run_tj run "$TMP/tls.yaml" --no-progress
assert_eq 0 "$rc" "insecure: true fetches over unverified TLS"
assert_contains "$out" '"status":200' "the page arrives"
assert_contains "$out" "TLS certificates are NOT verified" "insecure: true is logged as a warning"
finish
