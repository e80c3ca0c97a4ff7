package stacks

import (
	"fmt"
	"time"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dataplatform/dataplatform/components/network"
	"github.com/dataplatform/dataplatform/internal/validate"
	"github.com/dataplatform/dataplatform/stackconfig"
)

// Environment is what the program learns of where it deploys: looked up
// once, before anything is registered, and passed to the components as
// arguments. The Config stays as the stack file wrote it.
type Environment struct {
	// Caller is the identity the deploy runs as, and its account.
	Caller Caller
	// AccountID is the account the platform is created in (Caller.Account).
	AccountID string
	// Partition is the account's partition ("aws"); the platform's ARNs are
	// built for it.
	Partition string
	// Region is the stack's region (aws:region).
	Region string
	// Zones are the availability zones the platform uses: the pinned ones,
	// the region's first network.azCount, or those of an existing
	// network's private subnets.
	Zones []string
	// CABundle is the region's RDS CA bundle (PEM) from the committed file
	// (LoadCABundle): every database client verifies the server against it.
	CABundle string
	// Warnings are what the deploy should show (a root CA close to expiry).
	Warnings []string
}

// ResolveEnvironment looks up the account, partition and zones of a valid
// cfg and reads its CA bundle from dir (the project directory). It registers
// nothing. Every problem (too few zones, an existing network's subnets, a
// missing or expired bundle, a partition other than "aws") is reported at
// once, as a *validate.Error naming the config field; env then still holds
// the caller, for checks of their own.
func ResolveEnvironment(ctx *pulumi.Context, cfg *Config, dir string, now time.Time) (*Environment, error) {
	caller, err := aws.GetCallerIdentity(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("looking up the AWS account: %w", err)
	}
	partition, err := aws.GetPartition(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("looking up the AWS partition: %w", err)
	}
	env := &Environment{Caller: Caller{Account: caller.AccountId, ARN: caller.Arn}, AccountID: caller.AccountId, Partition: partition.Partition, Region: cfg.Region}
	var p validate.Problems
	if env.Partition != "aws" {
		p.Addf("aws:region", "%s is in partition %q; the platform's policies are written for the commercial partition \"aws\" only", cfg.Region, env.Partition)
	}
	if env.Zones, err = zones(ctx, cfg); err != nil {
		if !addProblems(&p, err) {
			return nil, err
		}
	}
	bundle, warning, err := LoadCABundle(cfg, dir, env.AccountID, now)
	if err != nil && !addProblems(&p, err) {
		return nil, err
	}
	env.CABundle = bundle
	if warning != "" {
		env.Warnings = append(env.Warnings, warning)
	}
	return env, p.Err()
}

// zones resolves the availability zones: network.ResolveZones, or the
// zones of an existing network's subnets (network.CheckExisting), with
// problems named by their config field.
func zones(ctx *pulumi.Context, cfg *Config) ([]string, error) {
	var zones []string
	var err error
	if e := cfg.Network.Existing; e != nil {
		zones, err = network.CheckExisting(ctx, *e, cfg.Name)
	} else {
		zones, err = network.ResolveZones(ctx, cfg.Network)
	}
	if verr, ok := err.(*validate.Error); ok {
		var q validate.Problems
		for _, pr := range verr.Problems {
			q.Addf(validate.Join(stackconfig.Namespace+":network", pr.Field), "%s", pr.Message)
		}
		return nil, q.Err()
	}
	return zones, err
}

// addProblems adds the problems of a *validate.Error to p and reports
// whether err was one.
func addProblems(p *validate.Problems, err error) bool {
	verr, ok := err.(*validate.Error)
	if !ok {
		return false
	}
	for _, pr := range verr.Problems {
		p.Addf(pr.Field, "%s", pr.Message)
	}
	return true
}

// warnings are env's warnings; none for a nil env.
func (env *Environment) warnings() []string {
	if env == nil {
		return nil
	}
	return env.Warnings
}
