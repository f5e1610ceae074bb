package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/shufflenet-go/shufflenet/classify"
	"github.com/shufflenet-go/shufflenet/preprocess"
)

// Classification is /api/classify's answer.
type Classification struct {
	Model string                `json:"model"`
	Top   []classify.Prediction `json:"top"`
	MS    float64               `json:"ms"` // the forward pass
}

var errBusy = errors.New("server busy")

// classify answers POST /api/classify?model=NAME&top=K. Each failure has
// its own status and a JSON error: 405 wrong method, 404 unknown model,
// 400 bad parameters or form, 413 body over the limit, 415 not an image,
// 422 too many pixels, 503 (with Retry-After) when all inference slots and
// the queue are taken or the wait runs out.
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
	ctx, cancel := context.WithTimeout(r.Context(), s.limits.Timeout)
	defer cancel()

	// Take a place before reading the body, so that at most
	// Concurrent+Queue uploads are held in memory at once.
	leave, err := s.enter()
	if err != nil {
		busy(w)
		return
	}
	defer leave()
	img, err := readImage(r.Header.Get("Content-Type"), http.MaxBytesReader(w, r.Body, s.limits.MaxBody), s.limits.MaxBody)
	if err != nil {
		var tooBig *http.MaxBytesError
		switch {
		case errors.As(err, &tooBig):
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the upload is over %d bytes", s.limits.MaxBody))
		default:
			writeError(w, http.StatusBadRequest, err.Error())
		}
		return
	}
	release, err := s.slot(ctx)
	if err != nil {
		busy(w)
		return
	}
	defer release()
	res, err := s.run(model, img, top)
	switch {
	case errors.Is(err, preprocess.ErrTooLarge):
		writeError(w, http.StatusUnprocessableEntity, err.Error())
	case errors.Is(err, preprocess.ErrNotImage):
		writeError(w, http.StatusUnsupportedMediaType, err.Error())
	case err != nil:
		writeError(w, http.StatusInternalServerError, err.Error())
	default:
		writeJSON(w, http.StatusOK, res)
	}
}

// run decodes, preprocesses and classifies one image with a network from
// the model's pool.
func (s *Server) run(m *Model, img []byte, top int) (Classification, error) {
	input, err := preprocess.Tensor(img, m.arch.Input, s.limits.MaxPixels)
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
	return Classification{Model: m.Info.Name, Top: classify.Top(logits, top), MS: ms}, nil
}

// enter takes one of the Concurrent+Queue places for a classification in
// progress (running, waiting, or still uploading), or fails at once when
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
