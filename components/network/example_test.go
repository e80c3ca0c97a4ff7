package network_test

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dataplatform/dataplatform/components/network"
	"github.com/dataplatform/dataplatform/internal/mocks"
)

// A two-zone VPC with one shared NAT gateway and no interface endpoints,
// its private subnets tagged for the EKS cluster "analytics".
func ExampleNewVpc() {
	program := func(ctx *pulumi.Context) error {
		vpc, err := network.NewVpc(ctx, "network", &network.VpcArgs{
			Config: network.Config{
				CidrBlock:          "10.30.0.0/16",
				AzCount:            2,
				NatStrategy:        network.NatSingle,
				InterfaceEndpoints: []network.Endpoint{},
			},
			ClusterName: "analytics",
			Region:      "us-east-1",
			AccountID:   "123456789012",
			Tags:        map[string]string{"Team": "data"},
		})
		if err != nil {
			return err
		}
		ctx.Export("privateSubnetIds", vpc.PrivateSubnetIDs)
		return nil
	}
	// pulumi.Run(program) in a real program; here, under mocks:
	counts, err := mocks.RunExample(program)
	fmt.Println(err, counts["aws:ec2/subnet:Subnet"], counts["aws:ec2/natGateway:NatGateway"])
	// Output: <nil> 8 1
}
