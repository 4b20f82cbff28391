"""The CDKTF app: `cdktf synth|deploy|diff <environment>` runs this file."""

import sys

from staticip.synth import main

if __name__ == "__main__":
    sys.exit(main())
