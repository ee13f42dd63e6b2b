#!/usr/bin/env bash
# The etholoop demo: the whole loop on generated arena videos, a line per stage with its time.
# Usage: bash scripts/demo.sh [OUTPUT_FOLDER]   (make demo runs it)
# Where ../shared/data holds the DeepLabCut open-field labels, the mice are composed from those
# real mouse cutouts; otherwise they are drawn.
set -euo pipefail
OUT=${1:-demo-output}
ETHOLOOP=${ETHOLOOP:-.venv/bin/etholoop}
PYTHON="$(dirname "$ETHOLOOP")/python"
PROJECT="$OUT/project"
REAL_LABELS=${DEMO_REAL_LABELS:-../shared/data/dlc_openfield_mouse/labeled-data/m4s1/CollectedData_Pranav.csv}

rm -rf "$OUT"
mkdir -p "$OUT"
DEMO_START=$SECONDS
STAGE_START=$SECONDS
STAGE=""
stage_done() {
  if [ -n "$STAGE" ]; then
    printf -- '-- %s: %d s\n' "$STAGE" $((SECONDS - STAGE_START))
  fi
}
step() {
  stage_done
  STAGE="$1"
  STAGE_START=$SECONDS
  printf '\n== %s\n' "$*"
}

# 320x240 at 15 fps, gray: the size `preprocess` normalizes to, so the generated ground truth
# lines up frame for frame and pixel for pixel with the normalized videos.
ARENA=(--size 320x240 --fps 15 --gray --animals 2)
if [ -f "$REAL_LABELS" ]; then
  MODE="composed from the real DeepLabCut open-field mouse ($REAL_LABELS)"
  ARENA+=(--from-labeled "$REAL_LABELS")
  BEHAVIORS=rest,walk,chase
else
  MODE="drawn (no ../shared/data here)"
  BEHAVIORS=rest,walk,groom,rear,chase
fi

step "0. Set up: the virtual environment and etholoop in it (nothing to do when done before)"
make -s .venv/.etholoop-installed

step "1. Generate three synthetic arenas of 2 mice, $MODE"
"$ETHOLOOP" synth "$OUT/labeled" "${ARENA[@]}" --frames 90 --seed 1
"$ETHOLOOP" synth "$OUT/session" "${ARENA[@]}" --frames 1200 --seed 2
"$ETHOLOOP" synth "$OUT/new" "${ARENA[@]}" --frames 450 --min-contacts 3 --seed 0

step "2. Create a project"
"$ETHOLOOP" init "$PROJECT" --animals 2 --keypoints nose,earL,earR,tailB \
    --skeleton nose-earL,nose-earR,nose-tailB --behaviors "$BEHAVIORS"

step "3. Register the videos (a second add of the same file is reported, not added)"
"$ETHOLOOP" add-videos "$PROJECT" "$OUT/labeled/arena.mp4" "$OUT/session/arena.mp4" \
    "$OUT/new/arena.mp4" --condition demo
"$ETHOLOOP" add-videos "$PROJECT" "$OUT/new/arena.mp4"

step "4. Normalize them: 15 fps, 320 px, grayscale"
"$ETHOLOOP" preprocess "$PROJECT" --fps 15 --size 320 --gray

echo "The generated ground truth stands in for the human from here on: every label"
echo "imported below (poses, proofread tracks, behaviors) is the arena's known truth."

step "5. Import the labeled session's poses (SLEAP file): they follow the video onto its copy"
"$ETHOLOOP" import "$PROJECT" "$OUT/labeled/arena.slp"

step "6. Sample 100 frames: an equal share of each quarter of each normalized video"
"$ETHOLOOP" sample "$PROJECT" --n 100 --strategy stratified --strata video,time --seed 0

step "7. Split every frame: labeled frames to test (drawn once) and train+val, the rest to predict and reserve"
"$ETHOLOOP" split "$PROJECT" --test 0.15 --train-val 40 --predict 30 --seed 0

step "8. Export the labels as COCO and YOLO datasets"
"$ETHOLOOP" export "$PROJECT" "$OUT/exports/coco/labels.json" --format coco
"$ETHOLOOP" export "$PROJECT" "$OUT/exports/yolo" --format yolo

step "9. Train the heatmap pose model (the default backend) on the train+val frames"
"$ETHOLOOP" train "$PROJECT" --epochs "${DEMO_EPOCHS:-8}" --batch 16

step "10. Predict on the frames to correct, then score the model on the test split"
"$ETHOLOOP" predict "$PROJECT" --subset predict
"$ETHOLOOP" evaluate "$PROJECT"   # "animals: found N of M": the test mice it found

step "11. Next active-learning cycle: corrected frames join train+val, the least-sure frames are next"
"$ETHOLOOP" cycle "$PROJECT" --strategy hybrid --n 20

step "12. Track the new video from the first frame to the last, 2 identities, with an overlay video"
"$ETHOLOOP" track "$PROJECT" "$OUT/new/arena.mp4" --overlay

step "13. Behavior labels for the second session: its proofread tracks and its ethogram (the ground truth)"
"$ETHOLOOP" tracks import "$PROJECT" "$OUT/session/arena.slp" --session "$OUT/session/arena.mp4"
"$ETHOLOOP" behavior import "$PROJECT" "$OUT/session/behaviors.csv" \
    --session "$OUT/session/arena.mp4" --format long

step "14. Train the behavior model on those labels, and cross-validate it on time blocks"
"$ETHOLOOP" behavior train "$PROJECT"
"$ETHOLOOP" behavior evaluate "$PROJECT" --split blocks

step "15. The main job: analyze the new video (tracks are reused, ethogram and bouts are new) and write the report"
"$ETHOLOOP" analyze "$PROJECT" "$OUT/new/arena.mp4" --report

step "16. Score the new video's tracks against its generated ground truth"
TRACKS=$(ls "$PROJECT"/tracks/*/*.slp | head -n 1)
"$ETHOLOOP" evaluate-tracks "$TRACKS" "$OUT/new/arena.slp" --json > "$OUT/tracking-score.json"
"$PYTHON" - "$OUT/tracking-score.json" <<'PY'
import json, sys
score = json.load(open(sys.argv[1]))
found, switches = score["recall"], score["id_switches"]
print(f"  mice found in {found:.1%} of their frames (target >= 90%): "
      f"{'met' if found >= 0.9 else 'NOT met'}")
print(f"  identity switches: {switches} (target <= 2): {'met' if switches <= 2 else 'NOT met'}")
print(f"  IDF1 {score['idf1']:.3f}, MOTA {score['mota']:.3f}, HOTA {score['hota']:.3f}, "
      f"{score['n_predicted_ids']} ids for {score['n_true_ids']} mice")
PY

step "17. Where the project stands"
"$ETHOLOOP" status "$PROJECT"

step "18. Serve the annotation app for a moment and ask it for labeling progress"
PORT=${DEMO_PORT:-8799}
"$ETHOLOOP" serve "$PROJECT" --port "$PORT" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
"$PYTHON" - "$PORT" <<'PY'
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
stage_done

cat <<DONE

Demo outputs:
  arena videos and ground truth   $OUT/labeled/, $OUT/session/, $OUT/new/
  project (config + label store)  $PROJECT/etholoop.yaml, $PROJECT/etholoop.db
  normalized videos               $PROJECT/videos/
  cached frame images (sampled)   $PROJECT/frames/
  COCO and YOLO exports           $OUT/exports/
  pose model run (weights, curves, test metrics)          $PROJECT/runs/pose/
  identity tracks (.slp .nc .csv .nwb, quality, overlay)  $PROJECT/tracks/
  behavior model and its cross-validation                 $PROJECT/runs/behavior/
  ethograms and bouts of the new video                    $PROJECT/behavior/
  the report (open it in a browser; figures beside it)    $PROJECT/report.html
Label in your browser: $ETHOLOOP serve $PROJECT --open   (then press H for the shortcuts)
Demo finished in $((SECONDS - DEMO_START)) s.
DONE
