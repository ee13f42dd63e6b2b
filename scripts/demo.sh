#!/usr/bin/env bash
# The etholoop demo: every stage that exists so far, on a generated arena video.
# Usage: bash scripts/demo.sh [OUTPUT_FOLDER]   (make demo runs it)
set -euo pipefail
OUT=${1:-demo-output}
ETHOLOOP=${ETHOLOOP:-.venv/bin/etholoop}
PROJECT="$OUT/project"

rm -rf "$OUT"
mkdir -p "$OUT"
step() { printf '\n== %s\n' "$*"; }

step "1. Generate two synthetic arenas of 3 mice: a labeled earlier session (3 s) and a new video (20 s)"
"$ETHOLOOP" synth "$OUT/labeled" --animals 3 --frames 90 --seed 1
"$ETHOLOOP" synth "$OUT/arena" --animals 3 --frames 600 --min-contacts 3 --seed 0

step "2. Create a project"
"$ETHOLOOP" init "$PROJECT" --animals 3 --keypoints nose,earL,earR,tailB \
    --skeleton nose-earL,nose-earR,nose-tailB --behaviors rest,walk,groom,rear,chase

step "3. Register the videos (a second add of the same file is reported, not added)"
"$ETHOLOOP" add-videos "$PROJECT" "$OUT/labeled/arena.mp4" "$OUT/arena/arena.mp4" --condition demo
"$ETHOLOOP" add-videos "$PROJECT" "$OUT/arena/arena.mp4"

step "4. Normalize them: 15 fps, 320 px, grayscale"
"$ETHOLOOP" preprocess "$PROJECT" --fps 15 --size 320 --gray

step "5. Import the earlier session's labels (SLEAP file): they follow the video onto its copy"
"$ETHOLOOP" import "$PROJECT" "$OUT/labeled/arena.slp"

step "6. Sample 100 frames: an equal share of each quarter of each normalized video"
"$ETHOLOOP" sample "$PROJECT" --n 100 --strategy stratified --strata video,time --seed 0

step "7. Split every frame: labeled frames to test (drawn once) and train+val, the new video's to predict and reserve"
"$ETHOLOOP" split "$PROJECT" --test 0.15 --train-val 40 --predict 30 --seed 0
"$ETHOLOOP" split "$PROJECT" --train-val 40 --predict 30 --seed 1   # test split kept

step "8. Export them as COCO and YOLO datasets"
"$ETHOLOOP" export "$PROJECT" "$OUT/exports/coco/labels.json" --format coco
"$ETHOLOOP" export "$PROJECT" "$OUT/exports/yolo" --format yolo

step "9. Train the heatmap pose model (the default backend) on the train+val frames: about 3 CPU minutes"
"$ETHOLOOP" train "$PROJECT" --epochs "${DEMO_EPOCHS:-8}" --batch 16

step "10. Predict on the frames to correct, then score the model on the test split"
"$ETHOLOOP" predict "$PROJECT" --subset predict
"$ETHOLOOP" evaluate "$PROJECT"   # "animals: found N of M": the test mice it found

step "11. Next cycle: corrected frames join train+val, the least-sure frames are next"
"$ETHOLOOP" cycle "$PROJECT" --strategy hybrid --n 20

step "12. Track the new video from the first frame to the last, 3 identities, with an overlay video"
"$ETHOLOOP" track "$PROJECT" "$OUT/arena/arena.mp4" --overlay

step "13. Where the project stands"
"$ETHOLOOP" status "$PROJECT"

step "14. Serve the annotation app for a moment and ask it for labeling progress"
PORT=${DEMO_PORT:-8799}
"$ETHOLOOP" serve "$PROJECT" --port "$PORT" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
"$(dirname "$ETHOLOOP")/python" - "$PORT" <<'PY'
import json, sys, time, urllib.request
url = f"http://127.0.0.1:{sys.argv[1]}/api/progress"
for _ in range(100):
    try:
        progress = json.load(urllib.request.urlopen(url))["splits"]
        break
    except OSError:
        time.sleep(0.1)
else:
    sys.exit(f"the annotation server did not answer at {url}")
for split, counts in sorted(progress.items()):
    print(f"  {split:>9}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
PY
kill $SERVER
trap - EXIT

cat <<DONE

Demo outputs:
  arena videos and ground truth  $OUT/labeled/ (imported), $OUT/arena/
  project (config + label store) $PROJECT/etholoop.yaml, $PROJECT/etholoop.db
  normalized video               $PROJECT/videos/
  cached frame images (sampled)  $PROJECT/frames/
  COCO and YOLO exports          $OUT/exports/
  heatmap pose model run (weights, curves, test metrics) $PROJECT/runs/pose/
  identity tracks (.slp .nc .csv .nwb, quality, overlay)  $PROJECT/tracks/
Try: $ETHOLOOP status $PROJECT --json
Label in your browser: $ETHOLOOP serve $PROJECT --open   (then press H for the shortcuts)
DONE
