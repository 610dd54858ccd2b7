# Run scdoc with IN as its input and OUT as its output (scdoc reads standard
# input only, and add_custom_command has no portable redirection).
# Usage: cmake -DSCDOC=scdoc -DIN=page.scd -DOUT=page -P scdoc.cmake
execute_process(COMMAND ${SCDOC} INPUT_FILE ${IN} OUTPUT_FILE ${OUT}.tmp
                RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  file(REMOVE ${OUT}.tmp)
  message(FATAL_ERROR "scdoc failed on ${IN}: ${err}")
endif()
file(RENAME ${OUT}.tmp ${OUT})
