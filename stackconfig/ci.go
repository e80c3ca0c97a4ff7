package stackconfig

import (
	"regexp"

	"github.com/dataplatform/dataplatform/internal/validate"
)

// CI is the config section dataplatform:ci: the role a pull request's
// `pulumi preview` runs as (README, "A real preview in CI").
type CI struct {
	// GitHub configures previews from GitHub Actions; unset, no preview
	// role is created.
	GitHub *GitHubPreview `json:"github,omitempty"`
}

// GitHubPreview is the preview role for GitHub Actions.
type GitHubPreview struct {
	// Repository is "owner/name". Required.
	Repository string `json:"repository"`
	// Environment is the protected GitHub environment whose jobs alone
	// may assume the role: give it required reviewers, so that a
	// pull request's code runs with the role only once a maintainer has
	// read it. Default "preview-<stack>".
	Environment string `json:"environment,omitempty"`
	// OIDCProviderARN is the account's IAM OIDC provider for
	// https://token.actions.githubusercontent.com (one per account: create
	// it once, outside the stacks). Required.
	OIDCProviderARN string `json:"oidcProviderArn"`
}

var (
	repoPattern        = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}$`)
	environmentPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,255}$`)
	githubProvider     = regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:oidc-provider/token\.actions\.githubusercontent\.com$`)
)

// WithDefaults returns c with every unset field given its default.
func (c CI) WithDefaults(stack string) CI {
	if c.GitHub != nil && c.GitHub.Environment == "" {
		g := *c.GitHub
		g.Environment = "preview-" + stack
		c.GitHub = &g
	}
	return c
}

// Validate reports every problem, with field paths relative to the section.
func (c CI) Validate() *validate.Problems {
	var p validate.Problems
	if g := c.GitHub; g != nil {
		if !repoPattern.MatchString(g.Repository) {
			p.Addf("github.repository", "want the repository as owner/name, such as \"example-org/dataplatform\", got %q", g.Repository)
		}
		if !environmentPattern.MatchString(g.Environment) {
			p.Addf("github.environment", "want a GitHub environment name (letters, digits, . _ -), got %q", g.Environment)
		}
		if !githubProvider.MatchString(g.OIDCProviderARN) {
			p.Addf("github.oidcProviderArn", "want the ARN of the account's OIDC provider for token.actions.githubusercontent.com, such as \"arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com\", got %q", g.OIDCProviderARN)
		}
	}
	return &p
}
