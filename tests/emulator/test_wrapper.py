"""The wrapper's idempotency tokens: a repeated create answered with the
first one's result, also when the repeat arrives while the first is still
being served (a retry after a timed-out attempt), and only for the same
token. Run by `make test` (python -m unittest)."""

import json
import threading
import time
import unittest

import idempotency
import moto_wrapper

ENDPOINT_CREATE = b"Action=CreateVpcEndpoint&Version=2016-11-15&VpcId=vpc-1&ClientToken="


class SlowService:
    """A stand-in for moto: each call takes effect (counted), then blocks
    until released, then answers with its own number."""

    def __init__(self):
        self.calls = 0
        self.lock = threading.Lock()
        self.entered = threading.Event()
        self.release = threading.Event()

    def __call__(self, environ, start_response):
        with self.lock:
            self.calls += 1
            n = self.calls
        self.entered.set()
        self.release.wait(10)
        start_response("200 OK", [("Content-Type", "text/xml")])
        return [f"<vpcEndpointId>vpce-{n}</vpcEndpointId>".encode()]

    def wait_for_calls(self, n, within):
        until = time.time() + within
        while time.time() < until:
            with self.lock:
                if self.calls >= n:
                    return
            time.sleep(0.01)


class IdempotencyTokens(unittest.TestCase):
    def setUp(self):
        idempotency.TOKENS.clear()
        idempotency.TOKEN_LOCKS.clear()
        self.service = SlowService()
        self.wrapper = moto_wrapper.Wrapper(self.service)

    def forward_in_thread(self, body, operation="CreateVpcEndpoint", service="ec2"):
        answer = {}

        def run():
            answer["value"] = self.wrapper.forward({}, service, operation, body)

        t = threading.Thread(target=run)
        t.start()
        return t, answer

    def test_a_repeat_during_the_first_call_waits_and_gets_its_answer(self):
        first, a = self.forward_in_thread(ENDPOINT_CREATE + b"tok-1")
        self.assertTrue(self.service.entered.wait(5))
        retry, b = self.forward_in_thread(ENDPOINT_CREATE + b"tok-1")
        # Without the token's lock the retry reaches the service at once.
        self.service.wait_for_calls(2, within=1.0)
        self.service.release.set()
        first.join(10)
        retry.join(10)
        self.assertEqual(self.service.calls, 1)
        self.assertEqual(a["value"], b["value"])
        self.assertIn(b"vpce-1", b["value"][2])

    def test_a_repeat_after_the_first_call_is_replayed(self):
        self.service.release.set()
        one = self.wrapper.forward({}, "ec2", "CreateVpcEndpoint", ENDPOINT_CREATE + b"tok-2")
        two = self.wrapper.forward({}, "ec2", "CreateVpcEndpoint", ENDPOINT_CREATE + b"tok-2")
        self.assertEqual(self.service.calls, 1)
        self.assertEqual(one, two)

    def test_another_token_is_not_held_up_by_a_call_in_progress(self):
        first, _ = self.forward_in_thread(ENDPOINT_CREATE + b"tok-3")
        self.assertTrue(self.service.entered.wait(5))
        other, _ = self.forward_in_thread(ENDPOINT_CREATE + b"tok-4")
        self.service.wait_for_calls(2, within=5.0)
        self.assertEqual(self.service.calls, 2)
        self.service.release.set()
        first.join(10)
        other.join(10)

    def test_a_failed_first_call_is_not_replayed(self):
        class Refusing:
            calls = 0

            def __call__(self, environ, start_response):
                Refusing.calls += 1
                start_response("400 Bad Request", [("Content-Type", "text/xml")])
                return [b"<Code>InvalidParameter</Code>"]

        wrapper = moto_wrapper.Wrapper(Refusing())
        wrapper.forward({}, "ec2", "CreateVpcEndpoint", ENDPOINT_CREATE + b"tok-5")
        wrapper.forward({}, "ec2", "CreateVpcEndpoint", ENDPOINT_CREATE + b"tok-5")
        self.assertEqual(Refusing.calls, 2)

    def test_tokens_the_services_deduplicate(self):
        token = idempotency.idempotency_token
        self.assertEqual(token("ec2", "CreateVpcEndpoint", ENDPOINT_CREATE + b"abc"), "abc")
        self.assertIsNone(token("ec2", "CreateVpcEndpoint", b"Action=CreateVpcEndpoint"))
        self.assertIsNone(token("ec2", "ModifyVpcEndpoint", b"ClientToken=abc"))
        job = json.dumps({"jobName": "j", "clientRequestToken": "t-1"}).encode()
        self.assertEqual(token("bedrock", "CreateModelCustomizationJob", job), "t-1")
        self.assertIsNone(token("bedrock", "CreateModelCustomizationJob", b"{}"))
        self.assertIsNone(token("bedrock", "CreateModelCustomizationJob", b"not json"))
        self.assertIsNone(token("bedrock", "CreateModelCustomizationJob", b"[1]"))
        self.assertIsNone(token("bedrock", "StopModelCustomizationJob", job))
        self.assertIsNone(token("iam", "CreateRole", ENDPOINT_CREATE + b"abc"))

    def test_a_repeated_job_submission_gets_the_first_answer(self):
        self.service.release.set()
        job = json.dumps({"jobName": "j", "clientRequestToken": "t-2"}).encode()
        environ = {"PATH_INFO": "/model-customization-jobs"}
        one = self.wrapper.forward(environ, "bedrock", "CreateModelCustomizationJob", job)
        two = self.wrapper.forward(environ, "bedrock", "CreateModelCustomizationJob", job)
        self.assertEqual(self.service.calls, 1)
        self.assertEqual(one[2], two[2])


if __name__ == "__main__":
    unittest.main()
