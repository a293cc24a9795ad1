"""Where moto differs from AWS in a way the handler would notice, moto is
patched to behave as AWS does; and the control call that ends a job, which
moto leaves InProgress."""

import json


def set_job_status(payload):
    from moto.bedrock.models import bedrock_backends

    backend = bedrock_backends[payload.get("account", "123456789012")][payload.get("region", "us-east-1")]
    job = backend.model_customization_jobs[payload["job_name"]]
    job.status = payload["status"]
    if "failure_message" in payload:
        job.failure_message = payload["failure_message"]


def idempotent_endpoint_delete():
    """DeleteVpcEndpoints leaves an endpoint listed in the `deleted` state;
    deleting it again must not touch routes it no longer has."""
    from moto.ec2.models.vpcs import VPCBackend

    original = VPCBackend.delete_vpc_endpoints

    def delete(self, vpce_ids=None):
        live = [i for i in vpce_ids or []
                if getattr(self.vpc_end_points.get(i), "state", None) != "deleted"]
        return original(self, live)

    VPCBackend.delete_vpc_endpoints = delete


def jobs_keep_what_was_sent():
    """moto's customization job forgets `customizationConfig` and insists on
    `trainingDataConfig.s3Uri`; Bedrock keeps the first and takes invocation
    logs instead of the second. Both are kept as sent, and answered. And its
    `outputModelArn` names the model the job made."""
    from moto.bedrock import models, responses

    original_init = models.ModelCustomizationJob.__init__
    original_to_dict = models.ModelCustomizationJob.to_dict
    original_create = responses.BedrockResponse.create_model_customization_job

    def init(self, job_name, custom_model_name, role_arn, base_model_identifier, training_data_config,
             *args, **kwargs):
        sent = training_data_config
        if isinstance(sent, dict) and "s3Uri" not in sent and "invocationLogsConfig" in sent:
            source = ((sent["invocationLogsConfig"] or {}).get("invocationLogSource") or {}).get("s3Uri", "")
            training_data_config = {"s3Uri": source}
        original_init(self, job_name, custom_model_name, role_arn, base_model_identifier,
                      training_data_config, *args, **kwargs)
        self.training_data_config = sent
        # moto names the job's output `<model>-<job>` and the model it makes
        # `<model>`; Bedrock's job reports the model it made.
        self.output_model_name = custom_model_name
        self.output_model_arn = self.output_model_arn.rsplit("/", 1)[0] + "/" + custom_model_name

    def to_dict(self):
        d = original_to_dict(self)
        if getattr(self, "customization_config", None):
            d["customizationConfig"] = self.customization_config
        return d

    def create(self):
        answer = original_create(self)
        params = json.loads(self.body)
        job = self.bedrock_backend.model_customization_jobs.get(params.get("jobName"))
        if job is not None:
            job.customization_config = params.get("customizationConfig")
        return answer

    models.ModelCustomizationJob.__init__ = init
    models.ModelCustomizationJob.to_dict = to_dict
    responses.BedrockResponse.create_model_customization_job = create
