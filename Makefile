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
WASM_SRC := $(shell find engine classify labels heatmap weights wasm -name '*.go' -not -name '*_test.go') go.mod

.PHONY: run test build wasm weights bench check-format vet wasm-check wasm-test fuzz-smoke

## run: build the wasm, fetch and convert the default weights if missing, serve the page.
run: build weights
	./bin/shufflenet serve --addr $(ADDR) --weights weights $(if $(wildcard $(SHARED)/images),--examples $(SHARED)/images)

## build: the CLI and server, with the page and the wasm built in.
build: wasm
	$(SIMD) $(GO) build -o bin/shufflenet ./cmd/shufflenet

## wasm: the engine for the browser, Go's wasm_exec.js beside it, and a brotli copy.
wasm: $(GEN)/shufflenet.wasm

$(GEN)/shufflenet.wasm: $(WASM_SRC)
	mkdir -p $(GEN)
	GOOS=js GOARCH=wasm $(GO) build -trimpath -ldflags='-s -w' -o $@ ./wasm
	cp "$$($(GO) env GOROOT)/lib/wasm/wasm_exec.js" $(GEN)/wasm_exec.js
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

## bench: native benchmarks (ms/op, allocs/op, GMAC/s), portable and SIMD builds.
bench:
	@echo "portable kernels:"
	SHUFFLENET_SHARED=$(SHARED) $(GO) test -run '^$$' -bench Forward -benchtime 2s ./engine
	@echo "SIMD kernels (GOEXPERIMENT=simd; AVX-512 where the CPU has it):"
	SHUFFLENET_SHARED=$(SHARED) $(SIMD) $(GO) test -run '^$$' -bench Forward -benchtime 2s ./engine
