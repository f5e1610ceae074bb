//go:build js && wasm

package main

import (
	"fmt"
	"runtime"
	"strings"
	"syscall/js"
	"time"
)

// camera is one webcam session of a classifier. It outlives other tasks
// (a model chosen meanwhile classifies the next frames), and ends only
// when stopped: by its button, a picture, new options or unmounting.
type camera struct {
	stopped bool
	done    []time.Time // when recent frames were classified, for frames/s
}

// framesClassified counts the live frames classified on this page, shown
// to benchmarks as window.shufflenetFrames.
var framesClassified int

func (c *classifier) toggleCamera() {
	if c.camera != nil {
		c.stopCamera()
		return
	}
	c.next() // what was being classified is superseded
	cam := &camera{}
	c.camera = cam
	// The button waits for the browser's answer (the reader may be asked
	// for the camera), so that sessions cannot overlap; the video and the
	// button are this render's, whatever renders meanwhile.
	video, button := c.video, c.cameraBtn
	button.SetTextContent(c.say("webcam-stop"))
	button.SetAttribute("aria-pressed", "true")
	button.SetAttribute("disabled", "")
	err := c.shim.startCamera(video)
	button.RemoveAttribute("disabled")
	if cam.stopped { // a picture, new options or unmounting came first
		c.shim.stopCamera(video)
		return
	}
	if err != nil {
		c.stopCamera()
		c.showError(cameraError(err))
		return
	}
	c.clearError()
	c.name, c.source = c.say("webcam-live"), "webcam"
	c.caption.SetTextContent(c.name)
	c.cameraLoop(cam)
}

// cameraLoop sends a frame for classification whenever a worker is free;
// frames that arrive while all are busy are skipped, never queued, so the
// results stay live.
func (c *classifier) cameraLoop(cam *camera) {
	for !cam.stopped {
		if err := c.shim.nextFrame(); err != nil || cam.stopped {
			return
		}
		if !c.shim.idle() {
			continue // every worker is busy: skip this frame
		}
		p := c.shim.pictureFromVideo(c.video)
		if !p.ok() {
			continue
		}
		m := c.model
		c.do(func() {
			res, err := c.shim.classify(m, p, c.opts.top, c.heatmapShown(), true, c.look(), c.head)
			if err != nil || res == nil || cam.stopped || c.unmounted {
				return
			}
			c.lastPicture = p
			c.show(res, m)
			c.countFrame(cam)
		})
	}
}

// collectEvery is how often, in live frames, the page collects its Go
// garbage. Each frame's answer reaches Go as js.Values, and the JavaScript
// objects they stand for (the pictures' pixels, about 600 kB a frame) live
// until Go's collector finds those values unreachable; but Go's own heap
// grows so slowly that, left alone, it collected about every 700 frames,
// when the page's JavaScript heap had reached 400-500 MB
// (TestWebcamMemory). A collection of the page's small Go heap takes a
// millisecond or two.
const collectEvery = 30

// countFrame updates frames/s over the last two seconds.
func (c *classifier) countFrame(cam *camera) {
	now := time.Now()
	framesClassified++
	js.Global().Set("shufflenetFrames", framesClassified)
	if framesClassified%collectEvery == 0 {
		runtime.GC()
	}
	cam.done = append(cam.done, now)
	for len(cam.done) > 0 && now.Sub(cam.done[0]) > 2*time.Second {
		cam.done = cam.done[1:]
	}
	if len(cam.done) > 1 {
		fps := float64(len(cam.done)-1) / now.Sub(cam.done[0]).Seconds()
		c.fps.SetTextContent(fmt.Sprintf("%.1f frames/s", fps))
	}
}

// stopCamera ends the webcam session, if one runs, keeping its last
// classified frame in view.
func (c *classifier) stopCamera() {
	if c.camera == nil {
		return
	}
	c.camera.stopped = true
	c.camera = nil
	c.shim.stopCamera(c.video)
	if c.last != nil {
		drawRGBA(c.picture, c.last.input, c.last.model.size)
	}
	c.cameraBtn.SetTextContent(c.say("webcam-start"))
	c.cameraBtn.SetAttribute("aria-pressed", "false")
	c.fps.SetTextContent("")
}

// cameraError turns getUserMedia's error names into advice.
func cameraError(err error) string {
	msg := err.Error()
	switch {
	case strings.HasPrefix(msg, "NotAllowedError"), strings.HasPrefix(msg, "SecurityError"):
		return "Camera access was denied. Allow the camera for this site in the browser's settings to use the webcam."
	case strings.HasPrefix(msg, "NotFoundError"), strings.HasPrefix(msg, "OverconstrainedError"):
		return "No camera was found. Connect one, or choose a picture instead."
	case strings.HasPrefix(msg, "NotReadableError"):
		return "The camera is in use by another application."
	}
	return "The webcam could not start: " + msg
}
