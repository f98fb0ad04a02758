#!/usr/bin/env bash
# GPU check for VariationalEmbedding: the GPU-parametrised tests, then one objective step
# (MLP 3 x 128, batch 1024, d = 2, D = 3 and 784) on the CPU and on CUDA, and the
# CPU/GPU step-time ratio.  Exits 0 with a message when CUDA is absent.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! python -c "import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)"; then
    echo "gpu_check: CUDA is not available here; nothing to check."
    exit 0
fi
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
python -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.get_device_name(0))"

echo "== GPU tests (pytest -m gpu)"
python -m pytest -q -m gpu tests/ -p no:cacheprovider

OUT=$(mktemp -d)
echo "== objective step on cuda (float64 and float32), with the vmap(jacrev) reference"
python benchmarks/bench_objective.py --device cuda --dtype float64 --repeat 20 --json --density normal | tee "$OUT/cuda64.json"
python benchmarks/bench_objective.py --device cuda --dtype float32 --repeat 20 --json --density normal --no-reference | tee "$OUT/cuda32.json"
echo "== objective step on cpu (float64, $(nproc) cores), without the reference"
python benchmarks/bench_objective.py --device cpu --dtype float64 --repeat 5 --json --density normal --no-reference | tee "$OUT/cpu64.json"

python - "$OUT" <<'PY'
import json, sys, pathlib
out = pathlib.Path(sys.argv[1])
load = lambda name: {r["D"]: r for r in map(json.loads, (l for l in (out / name).read_text().splitlines() if l.startswith("{")))}
cpu, g64, g32 = load("cpu64.json"), load("cuda64.json"), load("cuda32.json")
for D in sorted(cpu):
    print(f"D={D:4d}: cpu float64 {cpu[D]['jet_ms']:8.2f} ms | cuda float64 {g64[D]['jet_ms']:7.2f} ms "
          f"(CPU/GPU {cpu[D]['jet_ms'] / g64[D]['jet_ms']:6.1f}x; vs vmap(jacrev) on cuda {g64[D]['speedup']:.1f}x) "
          f"| cuda float32 {g32[D]['jet_ms']:7.2f} ms (CPU/GPU {cpu[D]['jet_ms'] / g32[D]['jet_ms']:6.1f}x)")
PY
