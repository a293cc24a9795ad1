"""The latency model of real AWS (latency_model.py) on its own: a role is
refused until its propagation delay after its last write has passed, the
draws repeat for a seed, and a model without ranges changes nothing."""

import unittest

import latency_model


class LatencyModel(unittest.TestCase):
    def test_a_role_is_assumable_a_delay_after_its_last_write(self):
        m = latency_model.LatencyModel({"seed": 3, "propagation_s": [2, 2]})
        m.role_written("r", 100.0)
        m.role_written("r", 101.0)  # an inline policy: the wait starts again
        self.assertTrue(m.refuses_submission("r", 102.9))
        self.assertFalse(m.refuses_submission("r", 103.0))
        self.assertFalse(m.refuses_submission("r", 104.0))
        (record,) = m.report()
        self.assertEqual((record["refused"], record["accepted"], record["ready"]), (1, 103.0, 103.0))

    def test_a_role_it_did_not_see_made_is_never_refused(self):
        m = latency_model.LatencyModel({"seed": 3, "propagation_s": [2, 15]})
        self.assertFalse(m.refuses_submission("someone-elses", 0.0))

    def test_a_seed_gives_the_same_delays_whatever_the_calls_between(self):
        a = latency_model.LatencyModel({"seed": 7, "propagation_s": [2, 15], "latency_ms": {"iam": [80, 250]}})
        b = latency_model.LatencyModel({"seed": 7, "propagation_s": [2, 15], "latency_ms": {"iam": [80, 250]}})
        for _ in range(5):
            a.call_latency("iam")  # only a's latency generator moves
        for name in ("one", "two"):
            a.role_written(name, 0.0)
            b.role_written(name, 0.0)
        self.assertEqual([r["delay"] for r in a.report()], [r["delay"] for r in b.report()])
        self.assertTrue(all(2 <= r["delay"] <= 15 for r in a.report()))
        other = latency_model.LatencyModel({"seed": 8, "propagation_s": [2, 15]})
        other.role_written("one", 0.0)
        self.assertNotEqual(other.report()[0]["delay"], a.report()[0]["delay"])

    def test_latency_is_drawn_in_the_services_range_and_zero_elsewhere(self):
        m = latency_model.LatencyModel({"seed": 1, "latency_ms": {"iam": [80, 250]}})
        draws = [m.call_latency("iam") for _ in range(50)]
        self.assertTrue(all(0.08 <= d <= 0.25 for d in draws))
        self.assertEqual(m.call_latency("s3"), 0.0)
        m.role_written("r", 0.0)  # no propagation range: no refusal
        self.assertFalse(m.refuses_submission("r", 0.0))


if __name__ == "__main__":
    unittest.main()
