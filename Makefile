# ShuffleNet V1 in Go: the two commands a new user needs are `make run` and `make test`.

GO      ?= go
# The shared reference data: $$SHUFFLENET_SHARED, or ../shared beside the clone.
SHARED  ?= $(or $(SHUFFLENET_SHARED),$(abspath ../shared))
IMG     ?= $(SHARED)/images/chelsea.png
CHECKPOINT ?= $(SHARED)/weights/megvii-shufflenetv1-g3-0.5x.pth.tar

MODEL   ?= megvii-g3-0.5x
ADDR    ?= 127.0.0.1:8080
GEN     := web/static/gen
# The native build uses Go 1.26's experimental simd/archsimd kernels (AVX-512 or AVX2).
SIMD    := GOEXPERIMENT=simd
WASM_SRC := $(shell find engine weights wasm internal/simd128 -name '*.go' -not -name '*_test.go') go.mod

.PHONY: run test test-deps build release wasm weights bench bench-peer bench-torch check-format vet wasm-check wasm-test fuzz-smoke mutate worker worker-dev worker-size worker-deploy

## run: build the wasm, fetch and convert the default weights if missing, serve the page.
run: build weights
	./bin/shufflenet serve --addr $(ADDR) --weights weights $(if $(wildcard $(SHARED)/images),--examples $(SHARED)/images)

## build: the CLI and server, with the page and the wasm built in.
build: wasm
	$(SIMD) $(GO) build -o bin/shufflenet ./cmd/shufflenet

## release: versioned binaries for linux, macOS and Windows on amd64 and
## arm64 in build/release, each with the page, the wasm engine, its SIMD128
## kernel module and the model list inside, and their SHA256SUMS. amd64
## builds carry the AVX-512 and AVX2 kernels (GOEXPERIMENT=simd); arm64 runs
## the portable ones.
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
RELEASE   := build/release
# The commit goes into each binary (shufflenet version) where git knows it.
BUILDVCS  := $(if $(shell git rev-parse --git-dir 2>/dev/null),-buildvcs=true)
PLATFORMS := linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64
release: wasm
	rm -rf $(RELEASE) && mkdir -p $(RELEASE)
	for p in $(PLATFORMS); do \
		os=$${p%/*} arch=$${p#*/}; ext=; exp=; \
		[ $$os = windows ] && ext=.exe; [ $$arch = amd64 ] && exp=simd; \
		GOOS=$$os GOARCH=$$arch GOEXPERIMENT=$$exp CGO_ENABLED=0 $(GO) build -trimpath $(BUILDVCS) \
			-ldflags '-s -w -X main.version=$(VERSION)' -o $(RELEASE)/shufflenet-$(VERSION)-$$os-$$arch$$ext ./cmd/shufflenet || exit 1; \
	done
	cd $(RELEASE) && sha256sum shufflenet-* > SHA256SUMS && ls -l

## wasm: the engine for the browser, its SIMD128 kernels (plain and fused
## builds), Go's wasm_exec.js beside them, and brotli copies.
wasm: $(GEN)/shufflenet.wasm $(GEN)/simd128.wasm $(GEN)/simd128-fused.wasm

$(GEN)/shufflenet.wasm: $(WASM_SRC)
	mkdir -p $(GEN)
	GOOS=js GOARCH=wasm $(GO) build -trimpath -ldflags='-s -w' -o $@ ./wasm
	cp "$$($(GO) env GOROOT)/lib/wasm/wasm_exec.js" $(GEN)/wasm_exec.js
	$(GO) run ./internal/precompress $@

$(GEN)/simd128.wasm $(GEN)/simd128-fused.wasm: $(shell find internal/simd128 internal/wasmenc -name '*.go' -not -name '*_test.go') internal/simd128gen/main.go
	mkdir -p $(GEN)
	$(GO) run ./internal/simd128gen $(if $(findstring -fused,$@),-fused) $@
	$(GO) run ./internal/precompress $@

## weights: fetch MODEL's checkpoint (cache, $$SHUFFLENET_CHECKPOINTS or download), verify it, convert to int8.
weights: build
	./bin/shufflenet fetch $(MODEL)

## classify: classify IMG natively with the real Megvii g3 0.5x checkpoint.
classify: build
	./bin/shufflenet classify --checkpoint $(CHECKPOINT) $(IMG)

## test: everything CI runs. The native build uses the SIMD kernels
## (GOEXPERIMENT=simd); the portable kernels, which the browser runs, are
## checked against PyTorch on their own too. The browser tests (web) and
## the worker's end-to-end test (server/edge) each run on their own: the
## page's checks of main-thread stalls need the two cores to themselves.
# The tests read the shared reference data, so the worker's bundle may take
# the checkpoint from there too.
test: export SHUFFLENET_CHECKPOINTS ?= $(wildcard $(SHARED)/weights)
test: test-deps check-format vet wasm-check wasm wasm-test worker
	SHUFFLENET_SHARED=$(SHARED) $(SIMD) $(GO) test $$($(GO) list ./... | grep -v -e '/web$$' -e '/server/edge$$')
	SHUFFLENET_SHARED=$(SHARED) $(SIMD) $(GO) test ./web
	SHUFFLENET_SHARED=$(SHARED) $(GO) test ./server/edge
	SHUFFLENET_SHARED=$(SHARED) $(GO) test -skip '^(TestSoak|TestServerMemory)$$' ./engine/... ./weights/checkpoint/... ./cmd/shufflenet/...
	SHUFFLENET_SHARED=$(SHARED) $(SIMD) $(GO) test -race ./server ./engine/classify/... ./weights/zoo/...
	$(MAKE) fuzz-smoke

# test-deps installs what the tests need beyond Go, so that a fresh
# machine skips nothing: the browsers the interface is tested in (Debian's
# Chromium, Firefox ESR, and WebKitGTK's WebDriver and MiniBrowser, which
# run under Xvfb), the documentation generators the widget is tested in
# (MkDocs, Sphinx, Hugo) and npm, with apt, after apt-get update, as root or
# through sudo (with the packages' recommends: WebKit's fake camera plays
# through GStreamer plugins they bring); then from the committed lockfiles
# the Worker's tools, axe-core (run on every page) and puppeteer-core
# (which drives Firefox over WebDriver BiDi).
APT_PACKAGES := $(if $(shell command -v chromium),,chromium) $(if $(shell command -v firefox-esr),,firefox-esr) \
	$(if $(shell command -v WebKitWebDriver),,webkit2gtk-driver) $(if $(shell command -v xvfb-run),,xvfb) \
	$(if $(shell command -v mkdocs),,mkdocs) $(if $(shell command -v sphinx-build),,python3-sphinx) $(if $(shell command -v hugo),,hugo) \
	$(if $(shell command -v npm),,npm)
test-deps:
ifneq ($(strip $(APT_PACKAGES)),)
	$(if $(filter 0,$(shell id -u)),,sudo) apt-get update
	$(if $(filter 0,$(shell id -u)),,sudo) env DEBIAN_FRONTEND=noninteractive apt-get install -y $(APT_PACKAGES)
endif
	$(MAKE) $(NODE_MODULES) $(WEB_MODULES)

WEB_MODULES := web/node_modules/.package-lock.json
$(WEB_MODULES): web/package.json web/package-lock.json
	npm ci --prefix web --ignore-scripts --no-audit --no-fund --loglevel=error

check-format:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...
	$(SIMD) $(GO) vet ./...

# The engine and everything the browser build needs compile for WebAssembly.
wasm-check:
	GOOS=js GOARCH=wasm $(GO) build ./engine/... ./weights ./wasm
	GOOS=js GOARCH=wasm $(GO) build -tags nosimd128 ./engine/... ./server/edge

# The engine's tests and the PyTorch exactness tests also run as
# WebAssembly under Node.js (which runs SIMD128), once with the SIMD128
# kernels Chromium and Firefox run (their fused build) and once with the
# plain Go kernels they fall back to; internal/wasmexec links them in. So
# do the browser worker's. The kernels' plain build, which WebKit runs,
# must match the plain Go kernels exactly.
WASM_TEST := PATH="$(CURDIR)/internal/wasmexec:$$PATH" GOOS=js GOARCH=wasm SHUFFLENET_SHARED=$(SHARED)
wasm-test:
	$(WASM_TEST) $(GO) test ./engine/... ./weights/checkpoint/... ./wasm
	$(WASM_TEST) SHUFFLENET_SIMD128=plain $(GO) test -run SIMD128 ./engine
	$(WASM_TEST) SHUFFLENET_SIMD128=off $(GO) test ./engine/... ./weights/checkpoint/...

# Each parser's fuzz target runs briefly on top of its seed corpus. The
# budgets are counts of executions, about 5 s each here: a duration
# (-fuzztime 10s) can fail with a bare "context deadline exceeded" when it
# runs out, a race in Go 1.26's fuzzing coordinator (go.dev/issue/75804).
FUZZ := $(GO) test -run '^$$' -fuzz
fuzz-smoke:
	SHUFFLENET_SHARED=$(SHARED) $(FUZZ) '^FuzzRead$$' -fuzztime 8000x ./weights/pth
	$(FUZZ) '^FuzzDecode$$' -fuzztime 10000x ./weights
	$(FUZZ) '^FuzzHeader$$' -fuzztime 50000x ./weights
	$(FUZZ) '^FuzzArchitecture$$' -fuzztime 100000x ./weights
	$(FUZZ) '^FuzzDecodeHead$$' -fuzztime 150000x ./weights
	SHUFFLENET_SHARED=$(SHARED) $(FUZZ) '^FuzzReadImage$$' -fuzztime 20000x ./server
	$(FUZZ) '^FuzzTensor$$' -fuzztime 30000x ./engine/preprocess
	SHUFFLENET_SHARED=$(SHARED) $(FUZZ) '^FuzzParseTensor$$' -fuzztime 2000x ./cmd/shufflenet

## mutate: mutation testing with gremlins (go-gremlins/gremlins, from the module
## proxy): changes each operator the tests cover, one at a time, and reports
## the efficacy, the share of mutants the tests kill. Long: about 15 minutes
## for engine/ with two cores. MUTATE picks the packages.
MUTATE   ?= ./engine ./weights
GREMLINS := $(GO) run github.com/go-gremlins/gremlins/cmd/gremlins@v0.6.0
mutate:
	for p in $(MUTATE); do SHUFFLENET_SHARED=$(SHARED) $(GREMLINS) unleash --workers 2 --test-cpu 1 --timeout-coefficient 3 $$p || exit 1; done

## bench: benchmarks (ms/op, allocs/op, GMAC/s): native, portable and SIMD
## builds; then in headless Chromium, with the SIMD128 kernels and without
## (go run ./internal/browserbench -simd128=plain times their plain build).
bench:
	@echo "portable kernels:"
	SHUFFLENET_SHARED=$(SHARED) $(GO) test -run '^$$' -bench Forward -benchtime 2s ./engine
	@echo "SIMD kernels (GOEXPERIMENT=simd; AVX-512 where the CPU has it):"
	SHUFFLENET_SHARED=$(SHARED) $(SIMD) $(GO) test -run '^$$' -bench Forward -benchtime 2s ./engine
	@echo "in Chromium, SIMD128 kernels (the fused build, which Chromium runs):"
	$(GO) run ./internal/browserbench -- -test.run '^$$' -test.bench Forward -test.benchtime 2s
	@echo "in Chromium, plain Go kernels:"
	$(GO) run ./internal/browserbench -simd128=off -- -test.run '^$$' -test.bench Forward -test.benchtime 2s

## bench-peer: the peer benchmark (ONNX Runtime Web and CPU, PyTorch, which
## it installs as root) with this engine plugged in, in the browser and
## natively (cmd/shufflenet-bench), from $(SHARED)/bench; then this engine and ONNX
## Runtime Web on the bench's page in Chromium, Firefox ESR and WebKitGTK
## (BenchmarkPeerBrowsers: the bench itself drives Chromium only). Its knobs
## pass through: BENCH_WORK, MODELS, THREADS, RUNS, ROUNDS (e.g. RUNS=30
## ROUNDS=1 MODELS=seed_g3_1x), and BROWSERS (chromium,firefox,webkit)
## for BenchmarkPeerBrowsers, which also measures frames/s through 1 and 2
## engine workers. The checkpoints are converted to f32 weights files in
## $(PEER) once. Then the page itself: its first prediction against its
## steady state (BenchmarkFirstPrediction), its memory over 1,000 webcam
## frames (TestWebcamMemory), and the server's resident memory after
## 1,000 classifications (TestServerMemory).
PEER        := build/bench-peer
PEER_MODELS := seed_g3_1x seed_g8_1x megvii_g3_0.5x megvii_g3_1.0x
bench-peer: wasm $(PEER_MODELS:%=$(PEER)/%.safetensors) bench-torch
	cp $(GEN)/shufflenet.wasm $(GEN)/simd128.wasm $(GEN)/simd128-fused.wasm $(GEN)/wasm_exec.js web/static/simd128.js web/static/engine.js web/bench/shufflenet-go.mjs web/bench/stream.mjs $(PEER)/
	$(SIMD) $(GO) build $(BUILDVCS) -o $(PEER)/shufflenet-bench ./cmd/shufflenet-bench
	BENCH_WORK="$(BENCH_WORK)" MODELS="$(MODELS)" THREADS="$(THREADS)" RUNS="$(RUNS)" ROUNDS="$(ROUNDS)" \
	ENGINE_MODULE="$(abspath $(PEER))/shufflenet-go.mjs" ENGINE_ROOT="$(abspath $(PEER))" \
	NATIVE_CMD="$(abspath $(PEER))/shufflenet-bench" NATIVE_NAME=shufflenet-go-native $(SHARED)/bench/run.sh
	BENCH_WORK="$(BENCH_WORK)" MODELS="$(MODELS)" RUNS="$(RUNS)" BROWSERS="$(BROWSERS)" SHUFFLENET_SHARED=$(SHARED) \
	$(GO) test ./web -run '^$$' -bench '^BenchmarkPeerBrowsers$$' -benchtime 1x -v
	@echo "the page in Chromium, cold cache: ready, first prediction and its ratio to the steady state:"
	SHUFFLENET_SHARED=$(SHARED) $(GO) test ./web -run '^$$' -bench '^BenchmarkFirstPrediction$$' -benchtime 1x -count 3
	@echo "the page's memory over 1,000 webcam frames:"
	@out=$$(SHUFFLENET_SHARED=$(SHARED) $(GO) test ./web -count 1 -run '^TestWebcamMemory$$' -v 2>&1); \
	status=$$?; echo "$$out" | grep -e 'frames' -e 'memory' -e 'heap' -e '^---' -e 'FAIL'; [ $$status = 0 ]
	@echo "the server's memory under load (1,000 /api/classify requests):"
	@out=$$(SHUFFLENET_SHARED=$(SHARED) $(SIMD) $(GO) test ./cmd/shufflenet -count 1 -run '^TestServerMemory$$' -v 2>&1); \
	status=$$?; echo "$$out" | grep -e 'RSS' -e '^---' -e 'FAIL' -e 'memory_test'; [ $$status = 0 ]

# bench-torch gives the peer benchmark its PyTorch rows: Debian's
# python3-torch, installed with apt (after apt-get update) when
# /usr/bin/python3 cannot import torch and this runs as root; otherwise the
# bench skips those rows and says so. (make test does not need it.)
bench-torch:
	@if /usr/bin/python3 -c 'import torch' 2>/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ]; then apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y python3-torch; \
	else echo "bench-peer: no PyTorch rows: /usr/bin/python3 has no torch (apt-get install python3-torch as root)"; fi

$(PEER)/seed_%.safetensors: $(SHARED)/bench/models/seed_%.pth | build
	mkdir -p $(PEER) && ./bin/shufflenet convert --dtype f32 --checkpoint $< --out $@
$(PEER)/megvii_g3_1.0x.safetensors: $(SHARED)/bench/models/megvii_g3_1.0x.pth.tar | build
	mkdir -p $(PEER) && ./bin/shufflenet convert --dtype f32 --checkpoint $< --out $@
$(PEER)/megvii_g3_0.5x.safetensors: $(SHARED)/weights/megvii-shufflenetv1-g3-0.5x.pth.tar | build
	mkdir -p $(PEER) && ./bin/shufflenet convert --dtype f32 --checkpoint $< --out $@

# The Cloudflare Worker (README: "Run at the edge") lives in EDGE with its
# JavaScript tooling (package.json, wrangler.toml): static assets in SITE,
# the Go entry (github.com/syumai/workers' loader and app.wasm) in WORKER.
EDGE    := server/edge
SITE    := $(EDGE)/build/site
WORKER  := $(EDGE)/build/worker
BUNDLE  := $(EDGE)/bundle
NODE_MODULES := $(EDGE)/node_modules/.package-lock.json
# wrangler from package.json, with the Node it pins first on PATH, quiet,
# offline and keeping its files inside the repository (git-ignored).
WRANGLER := cd $(EDGE) && PATH="$(CURDIR)/$(EDGE)/node_modules/.bin:$$PATH" WRANGLER_SEND_METRICS=false WRANGLER_SEND_ERROR_REPORTS=false \
	CLOUDFLARE_CF_FETCH_ENABLED=false XDG_CONFIG_HOME="$(CURDIR)/$(EDGE)/.tmp/wrangler/config" TMPDIR="$(CURDIR)/$(EDGE)/.tmp/wrangler/tmp" wrangler

## worker: the Cloudflare Worker: the site for its static assets and the Go API, with MODEL's weights.
worker: build weights
	rm -rf $(SITE)
	find $(BUNDLE) -type f ! -name README.md -delete
	cp weights/$(MODEL).int8.safetensors $(BUNDLE)/
	./bin/shufflenet export --weights $(BUNDLE) --engine-json $(BUNDLE)/engine.json $(SITE)
	$(GO) run github.com/syumai/workers/cmd/workers-assets-gen -mode=go -o $(WORKER)
	GOOS=js GOARCH=wasm $(GO) build -tags nosimd128 -trimpath -ldflags='-s -w' -o $(WORKER)/app.wasm ./$(EDGE)

# wrangler, workerd and Node 22 from package-lock.json (npm's registry only; no install scripts).
$(NODE_MODULES): $(EDGE)/package.json $(EDGE)/package-lock.json
	npm ci --prefix $(EDGE) --ignore-scripts --no-audit --no-fund --loglevel=error

## worker-dev: run the worker locally (wrangler dev) on http://127.0.0.1:8787/.
worker-dev: worker $(NODE_MODULES)
	mkdir -p $(EDGE)/.tmp/wrangler/config $(EDGE)/.tmp/wrangler/tmp
	$(WRANGLER) dev --ip 127.0.0.1 --port 8787

## worker-size: what wrangler would upload, raw and gzipped (the size limit applies to the latter).
worker-size: worker $(NODE_MODULES)
	mkdir -p $(EDGE)/.tmp/wrangler/config $(EDGE)/.tmp/wrangler/tmp
	$(WRANGLER) deploy --dry-run --outdir .tmp/wrangler/dry-run

## worker-deploy: publish the worker to your Cloudflare account (see the README for what to configure).
worker-deploy: worker $(NODE_MODULES)
	cd $(EDGE) && PATH="$(CURDIR)/$(EDGE)/node_modules/.bin:$$PATH" wrangler deploy
