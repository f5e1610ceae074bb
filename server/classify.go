package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/shufflenet-go/shufflenet/engine/classify"
	"github.com/shufflenet-go/shufflenet/engine/head"
	"github.com/shufflenet-go/shufflenet/engine/preprocess"
	"golang.org/x/sync/semaphore"
)

// Classification is /api/classify's answer.
type Classification struct {
	Model string `json:"model"`
	// Classes says whose classes Top holds: ClassesHead (the model's head,
	// indices and labels of its classes) or ClassesImageNet (the model's own).
	Classes string                `json:"classes"`
	Top     []classify.Prediction `json:"top"`
	MS      float64               `json:"ms"` // the forward pass
}

// The values of /api/classify's classes parameter and of
// Classification.Classes.
const (
	ClassesHead     = "head"     // the head given for the model (Config.Heads)
	ClassesImageNet = "imagenet" // the model's own ImageNet-1k classifier
)

var errBusy = errors.New("server busy")

// classify answers POST /api/classify?model=NAME&top=K&classes=C, where C
// is "head" or "imagenet" and defaults to the model's head if it has one
// (top=K then gives at most all the head's classes). Each failure has its
// own status and a JSON error: 405 wrong method, 404 unknown model, 400 bad
// parameters (classes=head for a model without a head, say) or form or a
// cut-off upload, 408 an upload slower than the body timeout, 413 body
// over the limit (before reading it, when the request says its length),
// 415 not an image, 422 too many pixels, a sliver of an image, or a
// decode over its memory or time budget, 503 (with Retry-After) when the
// upload memory, all inference slots and the queue are taken or the wait
// runs out.
func (s *Server) classify(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	switch r.Method {
	case http.MethodPost:
	case http.MethodOptions: // CORS preflight for a cross-origin upload
		w.Header().Set("Access-Control-Allow-Methods", "POST")
		w.Header().Set("Access-Control-Allow-Headers", "Content-Type")
		w.WriteHeader(http.StatusNoContent)
		return
	default:
		w.Header().Set("Allow", "POST, OPTIONS")
		writeError(w, http.StatusMethodNotAllowed, "use POST with an image as the body")
		return
	}
	q := r.URL.Query()
	model, ok := s.models.Get(q.Get("model"))
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("unknown model %q", q.Get("model")))
		return
	}
	top := 5
	if v := q.Get("top"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > s.limits.MaxTop {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("top must be an integer from 1 to %d", s.limits.MaxTop))
			return
		}
		top = n
	}
	h := model.head
	switch c := q.Get("classes"); c {
	case "":
	case ClassesImageNet:
		h = nil
	case ClassesHead:
		if h == nil {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("model %s has no head: classes=head needs one (serve --head)", model.Info.Name))
			return
		}
	default:
		writeError(w, http.StatusBadRequest, fmt.Sprintf("classes must be %q or %q, not %q", ClassesHead, ClassesImageNet, c))
		return
	}
	if r.ContentLength > s.limits.MaxBody {
		// Before reading: a client that sent "Expect: 100-continue" is told
		// at once, and never sends the body.
		w.Header().Set("Connection", "close")
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the upload is %d bytes, the limit is %d", r.ContentLength, s.limits.MaxBody))
		return
	}

	// The upload is read before a place in the inference queue is taken,
	// so a slow client holds no place that others need.
	body := &meteredBody{r: http.MaxBytesReader(w, r.Body, s.limits.MaxBody), budget: s.uploadMemory}
	defer body.release()
	img, err := s.readUpload(w, r, body)
	if err != nil {
		var tooBig *http.MaxBytesError
		var netErr net.Error
		switch {
		case errors.As(err, &tooBig):
			w.Header().Set("Connection", "close")
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the upload is over %d bytes", s.limits.MaxBody))
		case errors.Is(err, errBusy):
			busy(w)
		case errors.Is(err, os.ErrDeadlineExceeded):
			w.Header().Set("Connection", "close")
			writeError(w, http.StatusRequestTimeout, fmt.Sprintf("the upload did not arrive within %v", s.limits.BodyTimeout))
		case errors.As(err, &netErr), errors.Is(err, io.ErrUnexpectedEOF):
			writeError(w, http.StatusBadRequest, "the upload was cut off")
		default:
			writeError(w, http.StatusBadRequest, err.Error())
		}
		return
	}

	ctx, cancel := context.WithTimeout(r.Context(), s.limits.Timeout)
	defer cancel()
	leave, err := s.enter()
	if err != nil {
		busy(w)
		return
	}
	defer leave()
	release, err := s.slot(ctx)
	if err != nil {
		busy(w)
		return
	}
	defer release()
	res, err := s.run(ctx, model, h, img, top)
	switch {
	case errors.Is(err, preprocess.ErrTooLarge), errors.Is(err, preprocess.ErrAspectRatio), errors.Is(err, preprocess.ErrTooSlow):
		writeError(w, http.StatusUnprocessableEntity, err.Error())
	case errors.Is(err, preprocess.ErrNotImage):
		writeError(w, http.StatusUnsupportedMediaType, err.Error())
	case errors.Is(err, errBusy), errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		// Out of time waiting for memory or decoding, or the client has
		// gone (and reads no answer).
		busy(w)
	case err != nil:
		writeError(w, http.StatusInternalServerError, err.Error())
	default:
		writeJSON(w, http.StatusOK, res)
	}
}

// readUpload reads the uploaded image within the body timeout.
func (s *Server) readUpload(w http.ResponseWriter, r *http.Request, body io.Reader) ([]byte, error) {
	rc := http.NewResponseController(w)
	// Not every ResponseWriter has a connection (httptest's recorder has
	// none); where one does, the deadline holds.
	_ = rc.SetReadDeadline(time.Now().Add(s.limits.BodyTimeout))
	img, err := readImage(r.Header.Get("Content-Type"), body, s.limits.MaxBody)
	if err != nil {
		// The deadline stays: the server's reads of what is left of the
		// body fail at once, and the connection closes.
		return nil, err
	}
	// The body is in: from here on only a client that goes away ends the
	// request, which the server learns by reading on.
	_ = rc.SetReadDeadline(time.Time{})
	return img, nil
}

// run decodes, preprocesses and classifies one image with a network from
// the model's pool, and with h on its features unless h is nil. The decode
// waits for its share of the decode memory and stops when ctx ends or its
// own time budget is spent.
func (s *Server) run(ctx context.Context, m *Model, h *head.Head, data []byte, top int) (Classification, error) {
	hdr, err := preprocess.Inspect(data, s.limits.MaxPixels)
	if err != nil {
		return Classification{}, err
	}
	need := hdr.DecodeBytes()
	if need > s.limits.DecodeMemory {
		return Classification{}, fmt.Errorf("%w: decoding this %dx%d %s takes up to %d MB, the server allows %d MB",
			preprocess.ErrTooLarge, hdr.Width, hdr.Height, hdr.Format, need>>20, s.limits.DecodeMemory>>20)
	}
	if err := s.decodeMemory.Acquire(ctx, need); err != nil {
		return Classification{}, err
	}
	img, err := hdr.Decode(ctx, data)
	var input []float32
	if err == nil {
		input, err = preprocess.FromImage(img, m.arch.Input)
	}
	s.decodeMemory.Release(need)
	if err != nil {
		return Classification{}, err
	}

	net := m.acquire()
	defer m.release(net)
	start := time.Now()
	logits, err := net.Forward(input)
	if err != nil {
		return Classification{}, err
	}
	ms := float64(time.Since(start).Microseconds()) / 1000
	if h == nil {
		return Classification{Model: m.Info.Name, Classes: ClassesImageNet, Top: classify.Top(logits, top), MS: ms}, nil
	}
	features, err := net.Features()
	if err != nil {
		return Classification{}, err
	}
	predictions, err := h.Top(features, top)
	if err != nil {
		return Classification{}, err
	}
	return Classification{Model: m.Info.Name, Classes: ClassesHead, Top: predictions, MS: ms}, nil
}

// meteredBody counts the bytes of an upload against the memory that all
// uploads held by the server may take, as they arrive: a client that is
// slow to send holds only what it has sent. Past the budget, reading
// fails with errBusy.
type meteredBody struct {
	r      io.Reader
	budget *semaphore.Weighted
	held   int64
}

func (b *meteredBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if n > 0 {
		if !b.budget.TryAcquire(int64(n)) {
			return 0, errBusy
		}
		b.held += int64(n)
	}
	return n, err
}

// release gives back what the upload held, once the request is over.
func (b *meteredBody) release() {
	b.budget.Release(b.held)
	b.held = 0
}

// enter takes one of the Concurrent+Queue places for an uploaded image's
// classification (running or waiting), or fails at once when
// there is none: anyone beyond that is turned away rather than piling up.
func (s *Server) enter() (leave func(), err error) {
	select {
	case s.inflight <- struct{}{}:
		var once sync.Once
		return func() { once.Do(func() { <-s.inflight }) }, nil
	default:
		return nil, errBusy
	}
}

// slot waits for one of the Concurrent inference slots until ctx ends.
func (s *Server) slot(ctx context.Context) (release func(), err error) {
	select {
	case s.slots <- struct{}{}:
		var once sync.Once
		return func() { once.Do(func() { <-s.slots }) }, nil
	case <-ctx.Done():
		return nil, errBusy
	}
}

// busy answers 503 with a hint to retry.
func busy(w http.ResponseWriter) {
	w.Header().Set("Retry-After", "1")
	writeError(w, http.StatusServiceUnavailable, "too many classifications in progress; retry shortly")
}

// readImage returns the uploaded image: the whole body, or for a
// multipart/form-data request its first file part (or part named "image").
// body must already be limited to max bytes.
func readImage(contentType string, body io.Reader, max int64) ([]byte, error) {
	mediaType, params, err := mime.ParseMediaType(contentType)
	if err != nil || mediaType != "multipart/form-data" {
		data, err := io.ReadAll(body)
		if err != nil {
			return nil, err
		}
		if len(data) == 0 {
			return nil, errors.New("empty body: send an image")
		}
		return data, nil
	}
	boundary := params["boundary"]
	if boundary == "" {
		return nil, errors.New("multipart/form-data without a boundary")
	}
	mr := multipart.NewReader(body, boundary)
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return nil, errors.New("the form has no file part")
		}
		if err != nil {
			return nil, fmt.Errorf("bad multipart form: %w", err)
		}
		if part.FileName() == "" && part.FormName() != "image" {
			continue
		}
		data, err := io.ReadAll(io.LimitReader(part, max+1))
		if err != nil {
			return nil, fmt.Errorf("bad multipart form: %w", err)
		}
		if len(data) == 0 {
			return nil, errors.New("the uploaded file is empty")
		}
		return data, nil
	}
}
