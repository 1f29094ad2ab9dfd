#!/usr/bin/env bash
# Extracts the King James Bible from Debian's bible-kjv package into a training corpus and a held-out set.
#
#   scripts/kjv-corpus.sh [OUTDIR]     (default: data/kjv)
#
# Writes OUTDIR/train.txt, OUTDIR/heldout.txt and OUTDIR/SPLIT.md. One chapter per document: the verses of a
# chapter on consecutive lines with their references ("Ge1:1 ") stripped and the verse text otherwise exactly as
# `bible` prints it; documents separated by one blank line; UTF-8, LF, a final newline. Chapter ordinal i
# (0-based, canonical order Genesis 1 .. Revelation 22) is held out when i % 20 == 19 and never appears in train.
# The output depends only on the bible-kjv package version, which SPLIT.md records with the checksums.
set -euo pipefail
export LC_ALL=C

out_dir=${1:-data/kjv}

if ! command -v bible >/dev/null 2>&1; then
    # Try the local package lists first; refresh them only when they are stale.
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y bible-kjv || { apt-get update && apt-get install -y bible-kjv; }
fi

mkdir -p "$out_dir"
train=$out_dir/train.txt
heldout=$out_dir/heldout.txt
raw=$(mktemp)
trap 'rm -f "$raw"' EXIT

bible -f "Gen1:1-Rev22:21" >"$raw"

# Prints "chapters verses" for each of train and held-out; fails on any line that is not "<Book><chapter>:<verse> text".
counts=$(awk -v train="$train" -v heldout="$heldout" '
    !/^[1-3]?[A-Za-z]+[0-9]+:[0-9]+ / { printf "unexpected line %d from bible: %s\n", NR, $0 > "/dev/stderr"; exit 1 }
    {
        reference = $1
        chapter = reference
        sub(/:[0-9]+$/, "", chapter)
        if (chapter != previous) {
            ordinal++
            previous = chapter
            out = ((ordinal - 1) % 20 == 19) ? heldout : train
            if (started[out]) printf "\n" > out
            started[out] = 1
            chapters[out]++
        }
        print substr($0, length(reference) + 2) > out
        verses[out]++
    }
    END { print chapters[train] + 0, verses[train] + 0, chapters[heldout] + 0, verses[heldout] + 0 }
' "$raw")
read -r train_chapters train_verses heldout_chapters heldout_verses <<<"$counts"

train_bytes=$(wc -c <"$train")
heldout_bytes=$(wc -c <"$heldout")
train_sha=$(sha256sum "$train" | cut -d' ' -f1)
heldout_sha=$(sha256sum "$heldout" | cut -d' ' -f1)
package=$(dpkg-query -W -f='${Package} ${Version}' bible-kjv 2>/dev/null || echo "bible-kjv (version unknown)")

cat >"$out_dir/SPLIT.md" <<EOF
# King James Bible corpus split

Source: Debian package $package, \`bible -f "Gen1:1-Rev22:21"\` (public domain text), extracted by
scripts/kjv-corpus.sh.

- One document per chapter: its verses on consecutive lines, verse references ("Ge1:1 ") stripped, the verse text
  otherwise unchanged. Documents are separated by exactly one blank line. UTF-8, LF line endings, final newline.
- Held-out rule: chapters are numbered i = 0, 1, 2, ... in canonical order (Genesis 1 is 0, Revelation 22 is the
  last). Chapter i is held out when i % 20 == 19 (every 20th chapter, starting with Genesis 20); all other chapters
  are training text. No held-out chapter appears in train.txt.

| file | chapters | verses | bytes | sha256 |
| --- | ---: | ---: | ---: | --- |
| train.txt | $train_chapters | $train_verses | $train_bytes | $train_sha |
| heldout.txt | $heldout_chapters | $heldout_verses | $heldout_bytes | $heldout_sha |
EOF

printf '%-12s %9s %7s %9s  %s\n' file chapters verses bytes sha256
printf '%-12s %9d %7d %9d  %s\n' train.txt "$train_chapters" "$train_verses" "$train_bytes" "$train_sha"
printf '%-12s %9d %7d %9d  %s\n' heldout.txt "$heldout_chapters" "$heldout_verses" "$heldout_bytes" "$heldout_sha"
echo "wrote $train, $heldout and $out_dir/SPLIT.md"
