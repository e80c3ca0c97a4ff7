package cluster

import (
	"context"
	"fmt"

	authnv1 "k8s.io/api/authentication/v1"
	authzv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// Token is a token of a service account, from the TokenRequest API (as the
// kubelet mounts one into the account's pods).
func (c *Cluster) Token(ctx context.Context, ns, sa string) (string, error) {
	tr, err := c.Client.CoreV1().ServiceAccounts(ns).CreateToken(ctx, sa, &authnv1.TokenRequest{
		Spec: authnv1.TokenRequestSpec{ExpirationSeconds: ptr(int64(3600))}}, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("a token of %s/%s: %w", ns, sa, err)
	}
	return tr.Status.Token, nil
}

// As is a client that authenticates with a bearer token.
func (c *Cluster) As(token string) (kubernetes.Interface, error) {
	return kubernetes.NewForConfig(&rest.Config{Host: c.Server, BearerToken: token,
		TLSClientConfig: rest.TLSClientConfig{CAData: c.CA}})
}

// Access is one question to the API server.
type Access struct {
	Verb, Resource, Subresource, Group, Namespace string
}

// String says the question as "verb resource in namespace".
func (a Access) String() string {
	r := a.Resource
	if a.Subresource != "" {
		r += "/" + a.Subresource
	}
	return fmt.Sprintf("%s %s in %s", a.Verb, r, a.Namespace)
}

// Can asks the API server, as the token's holder, whether it may do a
// (SelfSubjectAccessReview: the answer RBAC gives that identity).
func Can(ctx context.Context, as kubernetes.Interface, a Access) (bool, error) {
	r, err := as.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, &authzv1.SelfSubjectAccessReview{
		Spec: authzv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authzv1.ResourceAttributes{
			Namespace: a.Namespace, Verb: a.Verb, Group: a.Group, Resource: a.Resource, Subresource: a.Subresource}}}, metav1.CreateOptions{})
	if err != nil {
		return false, err
	}
	return r.Status.Allowed, nil
}
