package literllm

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The local upstream (tests/upstream), started once for the whole run.
var upstreamBaseURL string

func upstreamPath() (string, error) {
	if p := os.Getenv("LITERLLM_UPSTREAM"); p != "" {
		return p, nil
	}
	out, err := exec.Command("pkg-config", "--variable=prefix", "literllm").Output()
	if err != nil {
		return "", fmt.Errorf("set LITERLLM_UPSTREAM (pkg-config literllm: %v)", err)
	}
	return filepath.Join(strings.TrimSpace(string(out)), "bin", "literllm-upstream"), nil
}

func TestMain(m *testing.M) {
	os.Exit(runWithUpstream(m))
}

func runWithUpstream(m *testing.M) int {
	path, err := upstreamPath()
	if err != nil {
		fmt.Fprintln(os.Stderr, "literllm tests:", err)
		return 1
	}
	cmd := exec.Command(path, "--no-record", "--exit-on-stdin-eof")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		fmt.Fprintln(os.Stderr, "literllm tests:", err)
		return 1
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		fmt.Fprintln(os.Stderr, "literllm tests:", err)
		return 1
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "literllm tests: starting the upstream:", err)
		return 1
	}
	defer func() {
		stdin.Close() // --exit-on-stdin-eof
		_ = cmd.Wait()
	}()
	rd := bufio.NewReader(stdout)
	for {
		line, err := rd.ReadString('\n')
		if err != nil {
			fmt.Fprintln(os.Stderr, "literllm tests: the upstream said no LISTENING line:", err)
			return 1
		}
		var port int
		if _, e := fmt.Sscanf(line, "LISTENING %d", &port); e == nil {
			upstreamBaseURL = fmt.Sprintf("http://127.0.0.1:%d/v1", port)
			os.Setenv("LITERLLM_TEST_BASE_URL", upstreamBaseURL) // for the examples
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, rd) }()
	return m.Run()
}

// testClient makes a client pointed at the upstream and closes it at the end of t.
func testClient(t testing.TB) *Client {
	t.Helper()
	c, err := NewClientJSON(fmt.Sprintf(`{"max_retries":0,"providers":{"openai":{"base_url":%q,"api_key":"sk-unit-test-key-000"}}}`, upstreamBaseURL))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}
