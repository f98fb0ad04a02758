#!/usr/bin/env bash
# GPU check for VariationalEmbedding: the GPU-parametrised tests, then one objective step
# (MLP 3 x 128, batch 1024, d = 2, D = 3 and 784) on the CPU and on CUDA, the
# CPU/GPU step-time ratio, and whole default fits of the swiss roll (2000 and 20 000
# points) on the CPU and on CUDA.  Exits 0 with a message when CUDA is absent.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! python -c "import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)"; then
    echo "gpu_check: CUDA is not available here; nothing to check."
    exit 0
fi
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
python -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.get_device_name(0))"

echo "== GPU tests (pytest -m gpu)"
status=0
python -m pytest -q -m gpu tests/ -p no:cacheprovider -rs || status=1  # go on to the benchmarks either way

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
    for name, g in (("float64", g64), ("float32", g32)) if "graph_ms" in g64[D] else ():
        print(f"        cuda {name} step replayed from a CUDA graph: {g[D].get('graph_ms', float('nan')):7.3f} ms "
              f"(eager/graph {g[D]['jet_ms'] / g[D].get('graph_ms', float('nan')):5.1f}x) {g[D].get('graph_error', '')}")
PY

echo "== whole fits: swiss roll 2000 / 20000 points, defaults, cpu float64 vs cuda float64 / float32"
python benchmarks/bench_fit_device.py --sizes 2000 20000 --configs cpu:float64 cuda:float64 cuda:float32
echo "== LinearVariationalEmbedding: CPU vs CUDA subspace (<= 1e-4 rad) and timings"
python benchmarks/gpu_linear.py --device cuda --large 10000 || status=1
exit $status
