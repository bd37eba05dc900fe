//! The store conformance suite: the same tests against the local folder and
//! a real S3 server (Garage on 127.0.0.1, checking SigV4 signatures).

mod conformance;
mod s3_failures;
