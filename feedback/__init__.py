"""The Friends and Family Test: feedback from the person or their family at a Recovery at
Home or team discharge, anonymous in every report; free text seen by managers first."""
