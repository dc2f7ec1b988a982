from wfmon.cli import main

main()
