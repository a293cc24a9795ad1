"""What Bedrock serves that moto has not: the foundation-model catalogue
(GetFoundationModel, ListFoundationModels; none in cn-* regions, as moto has
no Bedrock there) and the cross-region inference profiles
(GetInferenceProfile), shaped like the botocore model, from
foundation_models.json and inference_profiles.json."""

import json
import os
import urllib.parse


def _test_data(name):
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), name), encoding="utf-8") as f:
        return json.load(f)


CATALOGUE = _test_data("foundation_models.json")["models"]


def foundation_models(environ, operation, region):
    """Bedrock's foundation-model catalogue of the request's region."""
    models = [] if region.startswith("cn-") else CATALOGUE

    def details(model):
        d = {"modelArn": f"arn:aws:bedrock:{region}::foundation-model/{model['modelId']}",
             "inputModalities": ["TEXT"], "outputModalities": ["TEXT"], "responseStreamingSupported": True,
             "inferenceTypesSupported": ["ON_DEMAND"], "modelLifecycle": {"status": "ACTIVE"}}
        d.update(model)
        return d

    headers = [("Content-Type", "application/json")]
    if operation == "ListFoundationModels":
        data = json.dumps({"modelSummaries": [details(x) for x in models]}).encode()
        return "200 OK", headers + [("Content-Length", str(len(data)))], data
    identifier = urllib.parse.unquote(environ.get("PATH_INFO", "").rsplit("/", 1)[-1])
    identifier = identifier.rsplit("foundation-model/", 1)[-1]
    for x in models:
        if x["modelId"] == identifier:
            data = json.dumps({"modelDetails": details(x)}).encode()
            return "200 OK", headers + [("Content-Length", str(len(data)))], data
    data = json.dumps({"message": f"The model {identifier} does not exist in {region}."}).encode()
    return "404 Not Found", headers + [("x-amzn-ErrorType", "ResourceNotFoundException"),
                                       ("Content-Length", str(len(data)))], data


PROFILES = _test_data("inference_profiles.json")["profiles"]


def inference_profile(environ, region, account):
    """GetInferenceProfile of a cross-region profile of the request's
    geography (`us.` for us-*, `eu.` for eu-*, ...), by id or ARN."""
    identifier = urllib.parse.unquote(environ.get("PATH_INFO", "")[len("/inference-profiles/"):])
    identifier = identifier.rsplit("inference-profile/", 1)[-1]
    headers = [("Content-Type", "application/json")]
    for p in PROFILES:
        if p["inferenceProfileId"] == identifier and region in p["regions"]:
            answer = {
                "inferenceProfileName": p["inferenceProfileName"],
                "description": p["description"],
                "inferenceProfileArn": f"arn:aws:bedrock:{region}:{account}:inference-profile/{identifier}",
                "models": [{"modelArn": f"arn:aws:bedrock:{r}::foundation-model/{p['modelId']}"}
                           for r in p["regions"]],
                "inferenceProfileId": identifier,
                "status": "ACTIVE",
                "type": "SYSTEM_DEFINED",
                "createdAt": "2025-01-01T00:00:00Z",
                "updatedAt": "2025-01-01T00:00:00Z",
            }
            data = json.dumps(answer).encode()
            return "200 OK", headers + [("Content-Length", str(len(data)))], data
    data = json.dumps({"message": f"The inference profile {identifier} does not exist in {region}."}).encode()
    return "404 Not Found", headers + [("x-amzn-ErrorType", "ResourceNotFoundException"),
                                       ("Content-Length", str(len(data)))], data
