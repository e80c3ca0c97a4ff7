package stacks

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dataplatform/dataplatform/components/network"
)

// Platform holds the components of one stack, for programs that embed the
// whole platform and want more than the stack outputs.
type Platform struct {
	Config  *Config
	Network *network.Vpc
}

// Run is the Pulumi program: main.go passes it to pulumi.Run.
func Run(ctx *pulumi.Context) error {
	cfg, err := Load(ctx)
	if err != nil {
		return err
	}
	p, err := Deploy(ctx, cfg)
	if err != nil {
		return err
	}
	p.export(ctx)
	return nil
}

// Deploy creates the platform described by a loaded Config.
func Deploy(ctx *pulumi.Context, cfg *Config) (*Platform, error) {
	p := &Platform{Config: cfg}
	tags := cfg.BaseTags()
	var err error
	p.Network, err = network.NewVpc(ctx, "network", &network.VpcArgs{
		Config:      cfg.Network,
		ClusterName: cfg.Name,
		Tags:        tags,
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

func (p *Platform) export(ctx *pulumi.Context) {
	ctx.Export("region", pulumi.String(p.Config.Region))
	ctx.Export("name", pulumi.String(p.Config.Name))
	ctx.Export("vpcId", p.Network.VpcID)
	ctx.Export("availabilityZones", pulumi.ToStringArray(p.Network.AvailabilityZones))
	ctx.Export("publicSubnetIds", p.Network.PublicSubnetIDs)
	ctx.Export("privateSubnetIds", p.Network.PrivateSubnetIDs)
	ctx.Export("databaseSubnetIds", p.Network.DatabaseSubnetIDs)
	ctx.Export("natGatewayIds", p.Network.NatGatewayIDs)
}
