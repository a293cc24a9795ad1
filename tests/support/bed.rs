//! A deployed handler for the completion path's tests: the real bootstrap
//! under the fake Lambda Runtime API, against the emulator, receiving
//! CloudFormation events and EventBridge events (Bedrock's job state change,
//! shaped like AWS's documented sample, and the scheduled sweep), and
//! signalling a local WaitConditionHandle URL.

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};

use super::lambda::*;
use super::*;

pub fn bootstrap() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_bootstrap"))
}

/// Bedrock's "Model Customization Job State Change" event, as in the
/// Bedrock user guide's sample (Monitoring with EventBridge).
pub fn job_state_change(job_name: &str, job_arn: &str, status: &str) -> Value {
    json!({
        "version": "0",
        "id": "7a4c2f10-0000-4000-8000-000000000001",
        "detail-type": "Model Customization Job State Change",
        "source": "aws.bedrock",
        "account": ACCOUNT,
        "time": "2026-11-26T12:34:56Z",
        "region": REGION,
        "resources": [job_arn],
        "detail": {
            "version": "0.0",
            "jobName": job_name,
            "jobArn": job_arn,
            "jobStatus": status,
            "creationTime": "2026-11-26T10:00:00Z",
            "lastModifiedTime": "2026-11-26T12:34:56Z"
        }
    })
}

/// EventBridge's scheduled event (the sweep).
pub fn scheduled() -> Value {
    json!({
        "version": "0",
        "id": "7a4c2f10-0000-4000-8000-000000000002",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": "2026-11-26T12:35:00Z",
        "region": REGION,
        "resources": [format!("arn:aws:events:{REGION}:{ACCOUNT}:rule/completion-sweep")],
        "detail": {}
    })
}

pub struct Bed {
    pub emu: Emulator,
    pub fx: Fixture,
    pub rt: FakeRuntime,
    pub answers: ResponseReceiver,
    pub signals: ResponseReceiver,
    pub function: Function,
    pub invocations: usize,
}

impl Bed {
    pub async fn start(name: &str) -> Bed {
        let emu = Emulator::start();
        let fx = Fixture::create(&emu).await;
        let rt = FakeRuntime::start().await;
        let function = Function::start(bootstrap(), &rt, Some(&emu.endpoint), name);
        Bed {
            emu,
            fx,
            rt,
            answers: ResponseReceiver::start(0).await,
            signals: ResponseReceiver::start(0).await,
            function,
            invocations: 0,
        }
    }

    /// Invokes the function once and waits until it reported to Lambda.
    pub async fn invoke(&mut self, event: Value) -> Reported {
        self.invocations += 1;
        let id = format!("inv-{}", self.invocations);
        self.rt.invoke(&id, &event, Duration::from_secs(60));
        let reported = self
            .rt
            .wait_reported(self.invocations, Duration::from_secs(60))
            .await;
        assert_eq!(reported.len(), self.invocations, "no report for {id}");
        reported[self.invocations - 1].1.clone()
    }

    /// A CloudFormation event; its single answer.
    pub async fn cfn(
        &mut self,
        kind: &str,
        pid: Option<&str>,
        props: &Value,
        old: Option<&Value>,
    ) -> Value {
        let before = self.answers.answers().len();
        let url = self.answers.url(&format!("a{}", self.invocations));
        let ev = event_json(
            kind,
            &url,
            &format!("req-{kind}-{}", self.invocations),
            pid,
            props,
            old,
        );
        self.invoke(ev).await;
        let answers = self
            .answers
            .wait_for(before + 1, Duration::from_secs(5))
            .await;
        assert_eq!(answers.len(), before + 1, "one answer to {kind}");
        answers[before].json()
    }

    pub fn props_with_signal(&self, handle: &str) -> Value {
        let mut p = self.fx.full_properties();
        p["Job"]["CompletionSignalUrl"] = json!(self.signals.url(handle));
        p
    }

    pub async fn pending(&self, pid: &str) -> Option<String> {
        let check = self.emu.check_clients().await;
        check
            .ssm
            .get_parameter()
            .name(format!("/bedrock-customization-setup/{pid}"))
            .with_decryption(true)
            .send()
            .await
            .ok()
            .and_then(|o| o.parameter)
            .and_then(|p| p.value)
    }

    pub async fn job_arn(&self, job_name: &str) -> (String, String) {
        let check = self.emu.check_clients().await;
        let job = check
            .bedrock
            .get_model_customization_job()
            .job_identifier(job_name)
            .send()
            .await
            .expect("job");
        (
            job.job_arn().to_string(),
            job.output_model_arn().unwrap_or_default().to_string(),
        )
    }

    /// No log line carries the signal URL's credential.
    pub fn assert_logs_clean(&self) {
        let logs = self.function.logs();
        assert!(
            !logs.contains(SIGNATURE),
            "a signature leaked into the logs"
        );
        assert!(
            !logs.contains("X-Amz-Date=2026"),
            "a URL's query leaked into the logs"
        );
    }
}

pub fn str_of<'a>(v: &'a Value, k: &str) -> &'a str {
    v[k].as_str().unwrap_or_default()
}
