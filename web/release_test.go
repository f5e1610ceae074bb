package web_test

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shufflenet-go/shufflenet/internal/browsertest"
	"github.com/shufflenet-go/shufflenet/internal/shared"
)

// The program as a release ships it, copied alone into an empty folder:
// version answers, serve fetches the default model (here from
// $SHUFFLENET_CHECKPOINTS) and serves the page from inside the binary,
// and the page loads its engine and labels a photo.
func TestBinaryAloneInAnEmptyFolder(t *testing.T) {
	startSite(t) // skips, or fails on CI, where the engine is not built in
	dir := t.TempDir()
	bin := filepath.Join(dir, "shufflenet")
	build := exec.Command("go", "build", "-o", bin, "../cmd/shufflenet")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	version := exec.Command(bin, "version")
	version.Dir = dir
	if out, err := version.Output(); err != nil || !strings.HasPrefix(string(out), "shufflenet ") {
		t.Fatalf("version: %v: %q", err, out)
	}

	ctx, cancel := context.WithCancel(context.Background())
	serve := exec.CommandContext(ctx, bin, "serve", "--addr", "127.0.0.1:0")
	serve.Dir = dir
	serve.Env = append(os.Environ(), "SHUFFLENET_CHECKPOINTS="+filepath.Dir(shared.Path(t, "weights/megvii-shufflenetv1-g3-0.5x.pth.tar")))
	stdout, err := serve.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cancel() // ends the server
		serve.Wait()
	}()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	_, url, ok := strings.Cut(strings.TrimSpace(line), " on ")
	if err != nil || !ok || !strings.HasPrefix(line, "serving 1 model") {
		t.Fatalf("serve said %q (%v)", line, err)
	}

	b := browsertest.New(t)
	openDemo(t, b, url)
	if top := upload(t, b, shared.Path(t, "images/chelsea.png")); top.Label != "Egyptian cat" {
		t.Errorf("the page labelled the cat %q", top.Label)
	}
}
