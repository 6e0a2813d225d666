# shield_library(NAME DIR LIBS...): a static library of every .c file in the
# current source directory (not subdirectories), except the thin main files
# listed in SHIELD_MAINS.  Globbing with CONFIGURE_DEPENDS lets a new module
# be added by creating its .c/.h pair.
function(shield_library name)
	file(GLOB srcs CONFIGURE_DEPENDS "${CMAKE_CURRENT_SOURCE_DIR}/*.c")
	foreach(m IN LISTS SHIELD_MAINS)
		list(REMOVE_ITEM srcs "${CMAKE_CURRENT_SOURCE_DIR}/${m}")
	endforeach()
	if(srcs)
		add_library(${name} STATIC ${srcs})
		target_include_directories(${name} PUBLIC "${CMAKE_CURRENT_SOURCE_DIR}")
		target_link_libraries(${name} PUBLIC ${ARGN})
	else()
		# A module still being written: headers only for now.
		add_library(${name} INTERFACE)
		target_include_directories(${name} INTERFACE "${CMAKE_CURRENT_SOURCE_DIR}")
		target_link_libraries(${name} INTERFACE ${ARGN})
	endif()
endfunction()
