"""`python -m sms_service` is the `sms-tips` command."""

import sys

from sms_service.cli import main

sys.exit(main())
