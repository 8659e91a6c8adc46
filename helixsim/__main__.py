from helixsim.cli import main

main()
