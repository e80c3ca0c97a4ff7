//go:build testbed

package tests

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/dataplatform/dataplatform/testbed/internal/bed"
)

// browser starts Debian's Chromium, headless, trusting the bed's CA as a
// laptop trusts the public CAs (an NSS database in its home, where
// Chromium on Linux reads its trust anchors).
func browser(t *testing.T) context.Context {
	t.Helper()
	home := t.TempDir()
	nss := filepath.Join(home, ".pki", "nssdb")
	if err := os.MkdirAll(nss, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"-N", "-d", "sql:" + nss, "--empty-password"},
		{"-A", "-d", "sql:" + nss, "-n", "dataplatform test bed CA", "-t", "C,,", "-i", b.State.CA},
	} {
		if out, err := exec.Command("certutil", args...).CombinedOutput(); err != nil {
			t.Fatalf("certutil %v: %v: %s", args, err, out)
		}
	}
	// Chromium runs on the laptop (its network namespace, whose /etc/hosts
	// knows the bed's names); chromedp talks to it over its pipe.
	wrapper := filepath.Join(home, "chromium")
	script := "#!/bin/sh\nexec ip netns exec tb-" + bed.LaptopHost + " " + b.Tools.Chromium + " \"$@\"\n"
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(wrapper), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.UserDataDir(filepath.Join(home, "profile")), chromedp.Env("HOME="+home),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-component-update", true),
	)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	ctx, cancel3 := context.WithTimeout(ctx, 10*time.Minute)
	t.Cleanup(cancel3)
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("chromium: %v", err)
	}
	return ctx
}

// signIn opens Airflow's address in the browser, follows it to the user
// pool's sign-in page, signs in, and returns where the browser lands.
func signIn(t *testing.T, ctx context.Context, u bed.User) string {
	t.Helper()
	// Airflow's UI sends the browser to the FAB login page (through a
	// redirect or two, which may replace the page under a click: retry),
	// whose button starts the OAuth flow with the provider the config names.
	var err error
	for try := 0; try < 3; try++ {
		if err = chromedp.Do(ctx,
			chromedp.Navigate(b.State.Airflow.URL+"/"),
			chromedp.WaitVisible(chromedp.ID("btn-signin-cognito")),
			chromedp.Sleep(500*time.Millisecond),
			chromedp.Click(chromedp.ID("btn-signin-cognito")),
			chromedp.WaitVisible(chromedp.ID("username")),
		); err == nil {
			break
		}
	}
	if err == nil {
		err = chromedp.Do(ctx,
			chromedp.SendKeys(chromedp.ID("username"), u.Username),
			chromedp.SendKeys(chromedp.ID("password"), u.Password),
			chromedp.Click(chromedp.ID("signin")),
		)
	}
	if err != nil {
		t.Fatalf("%s signs in: %v (at %s)", u.Username, err, page(ctx))
	}
	landed := ""
	deadline := time.Now().Add(45 * time.Second)
	for landed == "" && time.Now().Before(deadline) {
		loc, err := chromedp.Run(ctx, chromedp.Location())
		if h, _ := url.Parse(loc); err == nil && h != nil && h.Host == host(b.State.Airflow.URL) &&
			!strings.Contains(loc, "/auth/oauth-authorized/") && !strings.Contains(loc, "/auth/login") {
			landed = loc
		}
		time.Sleep(300 * time.Millisecond)
	}
	if landed == "" {
		t.Fatalf("%s: the browser did not land in Airflow: %s", u.Username, page(ctx))
	}
	return landed
}

// signInRefused signs in as u, expects the user pool to refuse, and
// returns what its page says.
func signInRefused(t *testing.T, ctx context.Context, u bed.User) string {
	t.Helper()
	err := chromedp.Do(ctx,
		chromedp.Navigate(b.State.Airflow.URL+"/"),
		chromedp.WaitVisible(chromedp.ID("btn-signin-cognito")),
		chromedp.Sleep(500*time.Millisecond),
		chromedp.Click(chromedp.ID("btn-signin-cognito")),
		chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), u.Username),
		chromedp.SendKeys(chromedp.ID("password"), u.Password),
		chromedp.Click(chromedp.ID("signin")),
		chromedp.WaitVisible(chromedp.ID("errorMessage")),
	)
	if err != nil {
		t.Fatalf("%s: %v (%s)", u.Username, err, page(ctx))
	}
	return page(ctx)
}

// cookies are the browser's cookies for Airflow's address.
func cookies(t *testing.T, ctx context.Context) []*network.Cookie {
	t.Helper()
	cs, err := chromedp.Run(ctx, chromedp.Action[[]*network.Cookie](func(ctx context.Context, tg *chromedp.Target) ([]*network.Cookie, error) {
		if _, err := cdp.Call(ctx, tg, network.Enable, network.EnableParams{}); err != nil {
			return nil, err
		}
		res, err := cdp.Call(ctx, tg, network.GetCookies, network.GetCookiesParams{URLs: []string{b.State.Airflow.URL + "/"}})
		return res.Cookies, err
	}))
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) == 0 {
		t.Fatal("the browser holds no cookie of Airflow's")
	}
	return cs
}

// page describes where the browser is and what it shows.
func page(ctx context.Context) string {
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
	if len(body) > 600 {
		body = body[:600]
	}
	return fmt.Sprintf("%s: %q", loc, body)
}

// call calls Airflow's API from the signed-in page, as the UI does: with
// the browser's own session, and returns the status and body.
func call(t *testing.T, ctx context.Context, method, path string, body any) (int, string) {
	t.Helper()
	js, _ := json.Marshal(body)
	if body == nil {
		js = []byte("null")
	}
	expr := fmt.Sprintf(`fetch(%q, {method: %q, headers: {"Content-Type": "application/json"}, body: %s === null ? undefined : JSON.stringify(%s)})
		.then(async r => JSON.stringify({status: r.status, text: await r.text()}))`, path, method, js, js)
	out, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s %s from the browser: %v", method, path, err)
	}
	var r struct {
		Status int    `json:"status"`
		Text   string `json:"text"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	return r.Status, r.Text
}

func host(u string) string {
	p, _ := url.Parse(u)
	return p.Host
}

// airflowRole is the role Airflow gave a user, from its metadata database.
func airflowRole(t *testing.T, username string) string {
	t.Helper()
	db := airflowDatabase(t)
	out, err := b.Admin(db, "airflow", fmt.Sprintf(`SELECT coalesce(string_agg(r.name, ',' ORDER BY r.name), '') FROM ab_user u
		LEFT JOIN ab_user_role ur ON ur.user_id = u.id LEFT JOIN ab_role r ON r.id = ur.role_id WHERE u.username = '%s'`, username))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func airflowDatabase(t *testing.T) bed.Database {
	t.Helper()
	for _, db := range b.State.Databases {
		if out, err := b.Admin(db, "postgres", "SELECT 1 FROM pg_database WHERE datname = 'airflow'"); err == nil && out == "1" {
			return db
		}
	}
	t.Fatal("no instance holds Airflow's database")
	return bed.Database{}
}

// Every user of a group that maps to an Airflow role signs in through the
// user pool and gets that role; a user in no group gets no access; a
// federated user's groups come in custom:groups. What the browser meets
// is the plan's: Airflow's address and load balancer, the pool's client,
// callback and groups (substituted: addresses, the trust anchor, the
// values of secrets).
func TestUsersSignInThroughTheUserPoolWithTheirGroupsRole(t *testing.T) {
	if !stackHasSSO() {
		t.Skipf("stack %s has no user pool (sso.enabled is false): TestTheFirstAdminSignsIn covers its sign-in", b.State.Stack)
	}
	for _, u := range b.State.Users {
		t.Run(u.Username, func(t *testing.T) {
			ctx := browser(t)
			if u.Refused {
				if text := signInRefused(t, ctx, u); !strings.Contains(text, "not an identity provider of this app client") {
					t.Fatalf("%s was not refused as a user of a provider the client does not admit: %s", u.Username, text)
				}
				return
			}
			landed := signIn(t, ctx, u)
			if !strings.HasPrefix(landed, b.State.Airflow.URL+"/") {
				t.Fatalf("landed at %s, not in Airflow at %s", landed, b.State.Airflow.URL)
			}
			// FAB gives every user it registers AUTH_USER_REGISTRATION_ROLE
			// (Public, which may see nothing) besides the mapped roles.
			role := airflowRole(t, "sso_"+u.Sub)
			want := "Public"
			if u.Role != "" {
				want = strings.Join(sorted(u.Role, "Public"), ",")
			}
			if role != want {
				t.Fatalf("%s (groups %v, federated %v) has Airflow role %q, want %q", u.Username, u.Groups, u.Federated, role, want)
			}
			// What the role lets the user do, asked of the API with the
			// user's own token.
			status, body := call(t, ctx, "GET", "/api/v2/dags", nil)
			if (u.Role != "") != (status == 200) {
				t.Fatalf("GET /api/v2/dags as %s (role %s): %d %.300s", u.Username, role, status, body)
			}
			// Its session cookie goes over HTTPS only, and not to scripts.
			for _, c := range cookies(t, ctx) {
				if c.Name == "session" && (!c.Secure || !c.HTTPOnly) {
					t.Errorf("Airflow's session cookie is Secure=%v HttpOnly=%v over HTTPS", c.Secure, c.HTTPOnly)
				}
			}
			connections, _ := call(t, ctx, "GET", "/api/v2/connections", nil)
			if mayEditConnections := u.Role == "Admin" || u.Role == "Op"; mayEditConnections != (connections == 200) {
				t.Fatalf("GET /api/v2/connections as %s (role %s): %d", u.Username, role, connections)
			}
		})
	}
}

// dev keeps single sign-on off: the first admin the chart's create-user
// job makes (its password from the platform's secret) signs in with
// Airflow's own login form.
func TestTheFirstAdminSignsIn(t *testing.T) {
	if stackHasSSO() {
		t.Skipf("stack %s signs users in through its user pool and makes no first admin", b.State.Stack)
	}
	ctx := adminBrowser(t)
	if status, body := call(t, ctx, "GET", "/api/v2/dags", nil); status != 200 {
		t.Fatalf("GET /api/v2/dags as the first admin: %d %.300s", status, body)
	}
	if role := airflowRole(t, b.State.Airflow.AdminUsername); role != "Admin" {
		t.Fatalf("the first admin has role %q", role)
	}
}

// adminBrowser signs an Admin in and returns the browser: on a stack
// with single sign-on, the user of the pool's admin group; otherwise the
// first admin, through Airflow's login form.
func adminBrowser(t *testing.T) context.Context {
	t.Helper()
	ctx := browser(t)
	if stackHasSSO() {
		for _, u := range b.State.Users {
			if u.Role == "Admin" && !u.Federated {
				signIn(t, ctx, u)
				return ctx
			}
		}
		t.Fatal("no admin user in the pool")
	}
	// The UI redirects to the login form (a redirect may replace the page
	// under the first keystrokes: retry).
	var err error
	for try := 0; try < 3; try++ {
		if err = chromedp.Do(ctx,
			chromedp.Navigate(b.State.Airflow.URL+"/"),
			chromedp.WaitVisible(chromedp.ID("username")),
			chromedp.Sleep(500*time.Millisecond),
			chromedp.SendKeys(chromedp.ID("username"), b.State.Airflow.AdminUsername),
			chromedp.SendKeys(chromedp.ID("password"), b.State.Airflow.AdminPassword),
			chromedp.Submit(chromedp.ID("password")),
		); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("the first admin signs in: %v (%s)", err, page(ctx))
	}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		if loc, err := chromedp.Run(ctx, chromedp.Location()); err == nil && !strings.Contains(loc, "/auth/login") {
			if status, _ := call(t, ctx, "GET", "/api/v2/version", nil); status == 200 {
				return ctx
			}
		}
	}
	t.Fatalf("the first admin is not signed in: %s", page(ctx))
	return nil
}

func sorted(s ...string) []string {
	sort.Strings(s)
	return s
}

// The user pool sends users back only to the callbacks the plan registers
// for Airflow's client, as Cognito does: a sign-in that names any other
// redirect_uri gets an error page, never a redirect.
func TestTheUserPoolRefusesACallbackThePlanDoesNotRegister(t *testing.T) {
	if !stackHasSSO() {
		t.Skipf("stack %s has no user pool", b.State.Stack)
	}
	var client struct{ id, callback string }
	for _, c := range b.Plan.Find("aws:cognito/userPoolClient:UserPoolClient") {
		if c.Inputs["name"] == "airflow" {
			client.id = c.ID
			client.callback = fmt.Sprint(c.Inputs["callbackUrls"].([]any)[0])
		}
	}
	authorize := "https://" + b.Plan.Output("ssoSignInDomain") + "/oauth2/authorize?response_type=code&scope=openid&client_id=" + client.id + "&redirect_uri="
	for redirect, refused := range map[string]bool{client.callback: false, client.callback + "x": true, "https://evil.testbed.invalid/cb": true} {
		out, err := b.Client(bed.LaptopHost, nil, "curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", "--max-time", "10",
			"--cacert", b.State.CA, authorize+url.QueryEscape(redirect))
		if err != nil {
			t.Fatalf("%v %s", err, out)
		}
		status, location, _ := strings.Cut(strings.TrimSpace(out), " ")
		if refused && (status != "400" || strings.Contains(location, redirect)) {
			t.Errorf("redirect_uri %s: %s %s, want an error page", redirect, status, location)
		}
		if !refused && !strings.HasPrefix(status, "30") {
			t.Errorf("redirect_uri %s (registered): %s, want the sign-in page", redirect, status)
		}
	}
}
