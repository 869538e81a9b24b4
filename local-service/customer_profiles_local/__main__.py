import sys

from airflow_provider_customerprofiles.emulator.cli import main

sys.exit(main())
