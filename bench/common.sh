# Shared by bench/upload.sh and bench/sync.sh (sourced, not run): a local
# Garage server with credentials exported for recto, an rclone remote `g:`
# for the same bucket, and `t CMD...` printing a command's wall time.

# start_garage DIR: start the server with its data in DIR; exports
# RECTO_TEST_S3_*, AWS_* credentials, RECTO_ENDPOINT_URL and RECTO_REGION,
# and writes DIR/rclone.conf.
start_garage() {
  local dir=$1
  eval "$("$here/scripts/garage.sh" start "$dir" | sed 's/^/export /')"
  export AWS_ACCESS_KEY_ID=$RECTO_TEST_S3_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$RECTO_TEST_S3_SECRET_KEY
  export RECTO_ENDPOINT_URL=$RECTO_TEST_S3_ENDPOINT RECTO_REGION=garage
  cat >"$dir/rclone.conf" <<CONF
[g]
type = s3
provider = Other
access_key_id = $AWS_ACCESS_KEY_ID
secret_access_key = $AWS_SECRET_ACCESS_KEY
endpoint = $RECTO_TEST_S3_ENDPOINT
region = garage
force_path_style = true
CONF
}

t() { local s; s=$(date +%s.%N); "$@" >/dev/null 2>&1 || true; echo "$(date +%s.%N) - $s" | bc; }
