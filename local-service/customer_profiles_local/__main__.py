import sys

from customer_profiles_local.cli import main

sys.exit(main())
