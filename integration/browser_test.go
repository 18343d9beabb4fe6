//go:build linux

package integration

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image/png"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The browser harness: a headless Chromium (Debian's chromium package)
// driven through the Chrome DevTools Protocol with chromedp, over a pipe,
// one browser per test, bounded by a deadline. The browser runs inside a
// test's namespace, so that it reaches a server listening there, and
// nothing else: a page that needed the Internet would show it. Every wait
// is for a condition in the page (a selector, a text); nothing sleeps.

// chromiumPath is where Debian installs the browser.
const chromiumPath = "/usr/bin/chromium"

// envScreenshots names a directory that receives the named screenshots of
// the dashboard tests, for the documentation (docs/screenshots).
const envScreenshots = "LEASED_SCREENSHOTS"

// Viewport of the browser, and so of every screenshot.
const viewportWidth, viewportHeight = 1280, 800

// pollEvery of the conditions evaluated in the page.
const pagePollEvery = 50 * time.Millisecond

// requireChromium returns the path of the browser; it skips t without
// one, or fails it when the environment variable CI is "true": continuous
// integration installs it and must run every browser test.
func requireChromium(t *testing.T) string {
	t.Helper()
	path := chromiumPath
	if _, err := os.Stat(path); err != nil {
		p, lerr := exec.LookPath("chromium")
		if lerr != nil {
			msg := "no headless browser: chromium (Debian package chromium) is not installed"
			if os.Getenv("CI") == "true" {
				t.Fatal(msg + "; CI must install it")
			}
			t.Skip(msg)
		}
		path = p
	}
	return path
}

// browser is one headless Chromium with one tab, for one test.
type browser struct {
	t   *testing.T
	tab context.Context // the tab's; the browser lives as long
	ctx context.Context // tab's, ending at the test's deadline
	// shots is where screenshots go: the test's artefact directory.
	shots string
}

// newBrowser starts a headless Chromium with a temporary profile for t,
// inside the namespace of h (nil: the test's own), whose actions must all
// be done within timeout. Cleanup closes it.
func newBrowser(t *testing.T, h *host, timeout time.Duration) *browser {
	t.Helper()
	path := requireChromium(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox, // the tests run as root
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(viewportWidth, viewportHeight),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-features", "Translate,MediaRouter,OptimizationHints"),
		chromedp.Flag("metrics-recording-only", true),
		chromedp.Flag("no-proxy-server", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.Flag("force-color-profile", "srgb"),
		chromedp.ModifyCmdFunc(func(cmd *exec.Cmd) {
			if h != nil {
				// "ip netns exec" enters the namespace and executes
				// the browser in place, keeping the pipe's files.
				cmd.Args = append([]string{"ip", "netns", "exec", h.ns, cmd.Path}, cmd.Args[1:]...)
				cmd.Path, _ = exec.LookPath("ip")
			}
			cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		}),
	}
	// The browser outlives the deadline of the actions a little, so
	// that a failure can show the page as it was.
	ctx, cancelTimeout := context.WithTimeout(context.Background(), timeout+10*time.Second)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	var (
		logMu sync.Mutex
		logs  []string
	)
	logf := func(format string, args ...any) {
		logMu.Lock()
		defer logMu.Unlock()
		if len(logs) < 100 {
			logs = append(logs, fmt.Sprintf(format, args...))
		}
	}
	tab, cancelTab := chromedp.NewContext(actx, chromedp.WithErrorf(logf))
	b := &browser{t: t, tab: tab, shots: t.ArtifactDir()}
	// The first action starts the browser, in a context without deadline
	// of its own (the deadline of the first action's context would end
	// the browser).
	if err := chromedp.Do(tab, chromedp.EmulateViewport(viewportWidth, viewportHeight)); err != nil {
		cancelTab()
		cancelAlloc()
		cancelTimeout()
		t.Fatalf("starting the browser: %v", err)
	}
	var cancelActions context.CancelFunc
	b.ctx, cancelActions = context.WithTimeout(tab, timeout)
	t.Cleanup(func() {
		cancelActions()
		cancelTab() // closes the browser, and waits for it
		cancelAlloc()
		cancelTimeout()
		logMu.Lock()
		defer logMu.Unlock()
		if t.Failed() && len(logs) > 0 {
			t.Logf("--- browser errors:\n%s", strings.Join(logs, "\n"))
		}
	})
	return b
}

// do runs the actions, failing the test with what they were for when
// they fail or the test's deadline passes.
func (b *browser) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.fail(what, err)
	}
}

// get runs an action that returns a value; see do.
func get[T any](b *browser, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, a)
	if err != nil {
		b.fail(what, err)
	}
	return v
}

// fail fails the test, with a screenshot of the page as it was.
func (b *browser) fail(what string, err error) {
	b.t.Helper()
	if errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("%w: the test's deadline passed", err)
	}
	ctx, cancel := context.WithTimeout(b.tab, 5*time.Second)
	defer cancel()
	url, _ := chromedp.Run(ctx, chromedp.Location())
	if img, err := chromedp.Run(ctx, chromedp.CaptureScreenshot()); err == nil {
		name := filepath.Join(b.shots, "failure.png")
		if os.WriteFile(name, img, 0o644) == nil {
			b.t.Logf("the page %s at the failure: %s", url, name)
		}
	}
	b.t.Fatalf("browser: %s: %v", what, err)
}

// navigate loads url and waits until the page has loaded. It returns
// the HTTP status of the page (after redirects).
func (b *browser) navigate(url string) int64 {
	b.t.Helper()
	return b.load("load "+url, chromedp.Navigate(url))
}

// clickToLoad clicks the element sel, which loads a page (a link, a
// form's submit button), and waits until that page has loaded. It returns
// the HTTP status of the page (after redirects).
func (b *browser) clickToLoad(sel string) int64 {
	b.t.Helper()
	return b.load("click "+sel, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
}

func (b *browser) load(what string, a chromedp.Action[chromedp.Void]) int64 {
	b.t.Helper()
	resp, err := chromedp.RunResponse(b.ctx, a)
	if err != nil {
		b.fail(what, err)
	}
	return resp.Status
}

// on returns b for the test or subtest t, whose goroutine must be the one
// that calls its methods.
func (b *browser) on(t *testing.T) *browser {
	c := *b
	c.t = t
	return &c
}

// location returns the address of the page shown.
func (b *browser) location() string {
	b.t.Helper()
	return get(b, "read the location", chromedp.Location())
}

// waitVisible waits until an element that sel (a CSS selector) matches is
// visible.
func (b *browser) waitVisible(sel string) {
	b.t.Helper()
	b.do("wait for "+sel+" to be visible", chromedp.WaitVisible(chromedp.CSS(sel)))
}

// text waits for the element sel to be visible and returns its text as
// shown.
func (b *browser) text(sel string) string {
	b.t.Helper()
	return get(b, "read the text of "+sel, chromedp.Text(chromedp.CSS(sel), chromedp.NodeVisible))
}

// waitTrue waits until the JavaScript expression js is true in the page;
// what says what it stands for.
func (b *browser) waitTrue(what, js string) {
	b.t.Helper()
	get(b, "wait for "+what, chromedp.Poll[bool](js, chromedp.WithPollingInterval(pagePollEvery), chromedp.WithPollingTimeout(0)))
}

// becomesTrue reports whether the JavaScript expression js becomes true
// in the page within d.
func (b *browser) becomesTrue(js string, d time.Duration) bool {
	b.t.Helper()
	_, err := chromedp.Run(b.ctx, chromedp.Poll[bool](js, chromedp.WithPollingInterval(pagePollEvery), chromedp.WithPollingTimeout(d)))
	if errors.Is(err, chromedp.ErrPollingTimeout) {
		return false
	}
	if err != nil {
		b.fail("wait for "+js, err)
	}
	return true
}

// waitText waits until the text of the element sel contains want, and
// returns the text.
func (b *browser) waitText(sel, want string) string {
	b.t.Helper()
	js := fmt.Sprintf(`(() => { const e = document.querySelector(%s); return !!e && e.innerText.includes(%s); })()`, jsString(sel), jsString(want))
	_, err := chromedp.Run(b.ctx, chromedp.Poll[bool](js, chromedp.WithPollingInterval(pagePollEvery), chromedp.WithPollingTimeout(0)))
	if err != nil {
		ctx, cancel := context.WithTimeout(b.tab, 2*time.Second)
		got, _ := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`(document.querySelector(%s) || {innerText: "(no such element)"}).innerText`, jsString(sel))))
		cancel()
		b.fail(fmt.Sprintf("wait for %s to say %q (it says %q)", sel, want, got), err)
	}
	return b.text(sel)
}

// eval evaluates the JavaScript expression js in the page.
func eval[T any](b *browser, js string) T {
	b.t.Helper()
	return get(b, "evaluate "+js, chromedp.Evaluate[T](js))
}

// count returns the number of elements that sel matches now.
func (b *browser) count(sel string) int {
	b.t.Helper()
	return eval[int](b, fmt.Sprintf(`document.querySelectorAll(%s).length`, jsString(sel)))
}

// click waits for the element sel to be visible and clicks it.
func (b *browser) click(sel string) {
	b.t.Helper()
	b.do("click "+sel, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
}

// fill replaces the value of the input sel with value, as typed.
func (b *browser) fill(sel, value string) {
	b.t.Helper()
	b.do("fill "+sel, chromedp.Clear(chromedp.CSS(sel), chromedp.NodeVisible), chromedp.SendKeys(chromedp.CSS(sel), value))
}

// setMark sets a property on the page's window, so that hasMark can tell
// later that the page was not reloaded meanwhile.
func (b *browser) setMark(name string) {
	b.t.Helper()
	eval[bool](b, fmt.Sprintf(`window[%s] = true`, jsString(name)))
}

// hasMark reports whether the page still carries the mark set by setMark.
func (b *browser) hasMark(name string) bool {
	b.t.Helper()
	return eval[bool](b, fmt.Sprintf(`window[%s] === true`, jsString(name)))
}

// screenshot saves the page as shown (the viewport, PNG) as name.png in
// the test's artefact directory, and returns the file's path.
func (b *browser) screenshot(name string) string {
	b.t.Helper()
	img := get(b, "screenshot "+name, chromedp.CaptureScreenshot())
	path := filepath.Join(b.shots, name+".png")
	if err := os.WriteFile(path, img, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot %s (%d bytes)", path, len(img))
	return path
}

// docScreenshot is screenshot, writing the file also to the directory
// named by LEASED_SCREENSHOTS when it is set (the documentation's
// screenshots are made so: see docs/screenshots).
func (b *browser) docScreenshot(name string) {
	b.t.Helper()
	path := b.screenshot(name)
	dir := os.Getenv(envScreenshots)
	if dir == "" {
		return
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		b.t.Fatalf("%s=%s is not a directory", envScreenshots, dir)
	}
	img, err := os.ReadFile(path)
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, name+".png"), img, 0o644)
	}
	if err != nil {
		b.t.Fatal(err)
	}
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// harnessPage is the page of TestBrowserHarness: a button that, some time
// after a click, says what was typed and adds an element.
const harnessPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>harness</title></head>
<body><main>
<label for="q">Query</label> <input id="q">
<button id="go">Go</button>
<p id="message" role="status"></p>
</main>
<script>
document.getElementById("go").onclick = () => setTimeout(() => {
  document.getElementById("message").textContent = "clicked with " + document.getElementById("q").value;
  const d = document.createElement("div");
  d.id = "late";
  d.textContent = "late";
  document.querySelector("main").appendChild(d);
}, 200);
</script>
</body></html>`

// TestBrowserHarness checks the browser harness on a page of its own:
// typing, clicking, waiting for an element and a text that come later,
// telling a reload, and a screenshot of the viewport's size; on the
// loopback of the test, and (as root) from inside a namespace, where the
// dashboard tests run it.
func TestBrowserHarness(t *testing.T) {
	requireChromium(t)
	page := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, harnessPage)
	})
	t.Run("on the loopback", func(t *testing.T) {
		srv := httptest.NewServer(page)
		defer srv.Close()
		checkHarness(t, newBrowser(t, nil, 60*time.Second), srv.URL+"/")
	})
	t.Run("inside a namespace", func(t *testing.T) {
		requireCommands(t)
		h := newLink(t).addHost("browser", "198.18.0.1/24")
		var ln net.Listener
		if err := inNamespace(h.ns, func() (err error) { ln, err = net.Listen("tcp4", "127.0.0.1:8080"); return err }); err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: page}
		go srv.Serve(ln)
		defer srv.Close()
		checkHarness(t, newBrowser(t, h, 60*time.Second), "http://127.0.0.1:8080/")
	})
}

func checkHarness(t *testing.T, b *browser, url string) {
	t.Helper()
	b.navigate(url)
	b.setMark("harness")
	b.fill("#q", "02:c6:12:00:00:02")
	b.click("#go")
	if got := b.waitText("#message", "clicked with 02:c6:12:00:00:02"); got != "clicked with 02:c6:12:00:00:02" {
		t.Errorf("message %q", got)
	}
	b.waitVisible("#late")
	if n := b.count("main > div#late"); n != 1 {
		t.Errorf("%d late elements, want 1", n)
	}
	if !b.hasMark("harness") {
		t.Error("the page lost its mark without a reload")
	}
	b.navigate(url)
	if b.hasMark("harness") {
		t.Error("the page kept its mark across a reload")
	}
	if loc := b.location(); loc != url {
		t.Errorf("location %s, want %s", loc, url)
	}
	f, err := os.Open(b.screenshot("harness"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := png.DecodeConfig(f)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if cfg.Width != viewportWidth || cfg.Height != viewportHeight {
		t.Errorf("screenshot %dx%d, want %dx%d", cfg.Width, cfg.Height, viewportWidth, viewportHeight)
	}
}
