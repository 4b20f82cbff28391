# A Lambda function deployed with plain Terraform, behind a staticip environment's egress IPs.
# It reads the environment's SSM parameters, so it needs no output of staticip's state.
terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = ">= 5.0" }
  }
}

variable "project" { default = "staticip" }
variable "environment" { default = "dev" }
variable "region" { default = "us-east-1" }

provider "aws" {
  region = var.region
}

locals {
  exports = "/${var.project}/${var.environment}"
}

data "aws_ssm_parameter" "subnets" {
  name = "${local.exports}/function-subnet-ids"
}

data "aws_ssm_parameter" "security_group" {
  name = "${local.exports}/function-security-group-id"
}

resource "aws_iam_role" "vendor_client" {
  name = "vendor-client"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "lambda.amazonaws.com" } }]
  })
}

resource "aws_iam_role_policy_attachment" "vpc_access" {
  role       = aws_iam_role.vendor_client.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
}

resource "aws_lambda_function" "vendor_client" {
  function_name    = "vendor-client"
  role             = aws_iam_role.vendor_client.arn
  runtime          = "python3.12"
  handler          = "app.handler"
  filename         = "vendor_client.zip"
  source_code_hash = filebase64sha256("vendor_client.zip")

  vpc_config {
    subnet_ids = split(",", data.aws_ssm_parameter.subnets.value)
    # Exactly this one group: with any other set Lambda makes ENIs of its own, without the EIPs.
    security_group_ids = [data.aws_ssm_parameter.security_group.value]
  }
  depends_on = [aws_iam_role_policy_attachment.vpc_access]
}
