# ShuffleNet V1 in Go: the two commands a new user needs are `make run` and `make test`.

GO      ?= go
SHARED  ?= $(abspath ../shared)
IMG     ?= $(SHARED)/images/chelsea.png
CHECKPOINT ?= $(SHARED)/weights/megvii-shufflenetv1-g3-0.5x.pth.tar

MODEL   ?= megvii-g3-0.5x
ADDR    ?= 127.0.0.1:8080
GEN     := web/static/gen
# The native build uses Go 1.26's experimental simd/archsimd kernels (AVX-512 or AVX2).
SIMD    := GOEXPERIMENT=simd
WASM_SRC := $(shell find engine classify labels heatmap weights wasm internal/simd128 -name '*.go' -not -name '*_test.go') go.mod

.PHONY: run test build wasm weights bench bench-peer check-format vet wasm-check wasm-test fuzz-smoke

## run: build the wasm, fetch and convert the default weights if missing, serve the page.
run: build weights
	./bin/shufflenet serve --addr $(ADDR) --weights weights $(if $(wildcard $(SHARED)/images),--examples $(SHARED)/images)

## build: the CLI and server, with the page and the wasm built in.
build: wasm
	$(SIMD) $(GO) build -o bin/shufflenet ./cmd/shufflenet

## wasm: the engine for the browser, its SIMD128 kernels, Go's wasm_exec.js
## beside them, and brotli copies.
wasm: $(GEN)/shufflenet.wasm $(GEN)/simd128.wasm

$(GEN)/shufflenet.wasm: $(WASM_SRC)
	mkdir -p $(GEN)
	GOOS=js GOARCH=wasm $(GO) build -trimpath -ldflags='-s -w' -o $@ ./wasm
	cp "$$($(GO) env GOROOT)/lib/wasm/wasm_exec.js" $(GEN)/wasm_exec.js
	$(GO) run ./internal/precompress $@

$(GEN)/simd128.wasm: $(shell find internal/simd128 internal/wasmenc -name '*.go' -not -name '*_test.go') internal/simd128gen/main.go
	mkdir -p $(GEN)
	$(GO) run ./internal/simd128gen $@
	$(GO) run ./internal/precompress $@

## weights: fetch MODEL's checkpoint (cache, $$SHUFFLENET_CHECKPOINTS or download), verify it, convert to int8.
weights: build
	./bin/shufflenet fetch $(MODEL)

## classify: classify IMG natively with the real Megvii g3 0.5x checkpoint.
classify: build
	./bin/shufflenet classify --checkpoint $(CHECKPOINT) $(IMG)

## test: everything CI runs. The native build uses the SIMD kernels
## (GOEXPERIMENT=simd); the portable kernels, which the browser runs, are
## checked against PyTorch on their own too.
test: check-format vet wasm-check wasm wasm-test
	SHUFFLENET_SHARED=$(SHARED) $(SIMD) $(GO) test ./...
	SHUFFLENET_SHARED=$(SHARED) $(GO) test ./engine/... ./weights/checkpoint/... ./cmd/...
	SHUFFLENET_SHARED=$(SHARED) $(SIMD) $(GO) test -race ./server/... ./classify/... ./weights/zoo/...
	$(MAKE) fuzz-smoke

check-format:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...
	$(SIMD) $(GO) vet ./...

# The engine and everything the browser build needs compile for WebAssembly.
wasm-check:
	GOOS=js GOARCH=wasm $(GO) build ./engine/... ./classify ./labels ./weights ./wasm

# The engine's tests also run as WebAssembly under Node.js (which runs
# SIMD128), once with the SIMD128 kernels the browser runs and once with
# the plain Go kernels they fall back to; internal/wasmexec links them in.
WASM_TEST := PATH="$(CURDIR)/internal/wasmexec:$$PATH" GOOS=js GOARCH=wasm SHUFFLENET_SHARED=$(SHARED)
wasm-test:
	$(WASM_TEST) $(GO) test ./engine/...
	$(WASM_TEST) SHUFFLENET_SIMD128=off $(GO) test ./engine/...

# Each parser's fuzz target runs briefly on top of its seed corpus.
fuzz-smoke:
	SHUFFLENET_SHARED=$(SHARED) $(GO) test -run '^$$' -fuzz '^FuzzRead$$' -fuzztime 10s ./weights/pth
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime 10s ./weights
	SHUFFLENET_SHARED=$(SHARED) $(GO) test -run '^$$' -fuzz '^FuzzReadImage$$' -fuzztime 10s ./server

## bench: benchmarks (ms/op, allocs/op, GMAC/s): native, portable and SIMD
## builds; then in headless Chromium, with the SIMD128 kernels and without.
bench:
	@echo "portable kernels:"
	SHUFFLENET_SHARED=$(SHARED) $(GO) test -run '^$$' -bench Forward -benchtime 2s ./engine
	@echo "SIMD kernels (GOEXPERIMENT=simd; AVX-512 where the CPU has it):"
	SHUFFLENET_SHARED=$(SHARED) $(SIMD) $(GO) test -run '^$$' -bench Forward -benchtime 2s ./engine
	@echo "in Chromium, SIMD128 kernels:"
	$(GO) run ./internal/browserbench -- -test.run '^$$' -test.bench Forward -test.benchtime 2s
	@echo "in Chromium, plain Go kernels:"
	$(GO) run ./internal/browserbench -simd128=off -- -test.run '^$$' -test.bench Forward -test.benchtime 2s

## bench-peer: the peer benchmark (ONNX Runtime Web, PyTorch if there) with
## this engine plugged in, from $(SHARED)/bench. Its knobs pass through:
## BENCH_WORK, MODELS, THREADS, RUNS, ROUNDS (e.g. RUNS=30 ROUNDS=1 MODELS=seed_g3_1x).
## The checkpoints are converted to f32 weights files in $(PEER) once.
PEER        := build/bench-peer
PEER_MODELS := seed_g3_1x seed_g8_1x megvii_g3_0.5x megvii_g3_1.0x
bench-peer: wasm $(PEER_MODELS:%=$(PEER)/%.safetensors)
	cp $(GEN)/shufflenet.wasm $(GEN)/simd128.wasm $(GEN)/wasm_exec.js web/static/simd128.js web/bench/shufflenet-go.mjs $(PEER)/
	BENCH_WORK="$(BENCH_WORK)" MODELS="$(MODELS)" THREADS="$(THREADS)" RUNS="$(RUNS)" ROUNDS="$(ROUNDS)" \
	ENGINE_MODULE="$(abspath $(PEER))/shufflenet-go.mjs" ENGINE_ROOT="$(abspath $(PEER))" $(SHARED)/bench/run.sh

$(PEER)/seed_%.safetensors: $(SHARED)/bench/models/seed_%.pth | build
	mkdir -p $(PEER) && ./bin/shufflenet convert --dtype f32 --checkpoint $< --out $@
$(PEER)/megvii_g3_1.0x.safetensors: $(SHARED)/bench/models/megvii_g3_1.0x.pth.tar | build
	mkdir -p $(PEER) && ./bin/shufflenet convert --dtype f32 --checkpoint $< --out $@
$(PEER)/megvii_g3_0.5x.safetensors: $(SHARED)/weights/megvii-shufflenetv1-g3-0.5x.pth.tar | build
	mkdir -p $(PEER) && ./bin/shufflenet convert --dtype f32 --checkpoint $< --out $@
