#!/usr/bin/env bash
# Prints the URI this machine's apt configuration uses for Debian bookworm's main archive (not the
# security archive), from /etc/apt/sources.list (one-line form) or /etc/apt/sources.list.d/*.sources
# (deb822 form); prints nothing when there is none. .ci/run adds bookworm-backports from the same mirror.
set -euo pipefail
root="${APT_ROOT:-/etc/apt}"
# One-line form: "deb [options] URI bookworm component…"
for f in "$root/sources.list" "$root"/sources.list.d/*.list; do
  [ -f "$f" ] || continue
  uri="$(awk '$1 == "deb" { i = 2; if ($2 ~ /^\[/) { while ($i !~ /\]$/) i++; i++ } if ($(i + 1) == "bookworm") { print $i; exit } }' "$f")"
  if [ -n "$uri" ]; then echo "$uri"; exit 0; fi
done
# deb822 form: stanzas separated by blank lines, with "URIs:" and "Suites:" fields.
for f in "$root"/sources.list.d/*.sources; do
  [ -f "$f" ] || continue
  uri="$(awk '
    BEGIN { RS = ""; FS = "\n" }
    {
      uris = ""; suites = ""; types = ""
      for (i = 1; i <= NF; i++) {
        if ($i ~ /^URIs:/) { uris = $i; sub(/^URIs:[ \t]*/, "", uris) }
        if ($i ~ /^Suites:/) { suites = " " $i " "; sub(/^ Suites:/, "", suites) }
        if ($i ~ /^Types:/) types = $i
      }
      if (types ~ /deb( |$)/ && suites ~ /[ \t]bookworm[ \t]/) { split(uris, u, /[ \t]+/); print u[1]; exit }
    }' "$f")"
  if [ -n "$uri" ]; then echo "$uri"; exit 0; fi
done
