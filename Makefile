# ShuffleNet V1 in Go: the two commands a new user needs are `make run` and `make test`.

GO      ?= go
SHARED  ?= $(abspath ../shared)
IMG     ?= $(SHARED)/images/chelsea.png
CHECKPOINT ?= $(SHARED)/weights/megvii-shufflenetv1-g3-0.5x.pth.tar

MODEL   ?= megvii-g3-0.5x

.PHONY: run test build weights bench check-format vet wasm-check fuzz-smoke

build:
	$(GO) build -o bin/shufflenet ./cmd/shufflenet

## weights: fetch MODEL's checkpoint (cache, $$SHUFFLENET_CHECKPOINTS or download), verify it, convert to int8.
weights: build
	./bin/shufflenet fetch $(MODEL)

## run: classify IMG with the real Megvii g3 0.5x checkpoint.
run: build
	./bin/shufflenet classify --checkpoint $(CHECKPOINT) $(IMG)

## test: everything CI runs, with the portable kernels and with the SIMD ones.
test: check-format vet wasm-check
	SHUFFLENET_SHARED=$(SHARED) $(GO) test ./...
	SHUFFLENET_SHARED=$(SHARED) GOEXPERIMENT=simd $(GO) test ./...
	$(MAKE) fuzz-smoke

check-format:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...
	GOEXPERIMENT=simd $(GO) vet ./...

# The engine and everything the browser build needs compile for WebAssembly.
wasm-check:
	GOOS=js GOARCH=wasm $(GO) build ./engine/... ./classify ./labels

# Each parser's fuzz target runs briefly on top of its seed corpus.
fuzz-smoke:
	SHUFFLENET_SHARED=$(SHARED) $(GO) test -run '^$$' -fuzz '^FuzzRead$$' -fuzztime 10s ./weights/pth
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime 10s ./weights

## bench: native benchmarks (ms/op, allocs/op, GMAC/s), portable and SIMD builds.
bench:
	@echo "portable kernels:"
	SHUFFLENET_SHARED=$(SHARED) $(GO) test -run '^$$' -bench Forward -benchtime 2s ./engine
	@echo "SIMD kernels (GOEXPERIMENT=simd; AVX-512 where the CPU has it):"
	SHUFFLENET_SHARED=$(SHARED) GOEXPERIMENT=simd $(GO) test -run '^$$' -bench Forward -benchtime 2s ./engine
