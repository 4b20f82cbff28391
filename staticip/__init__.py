"""staticip: static egress and ingress IPs for AWS Lambda, as CDK for Terraform stacks."""
